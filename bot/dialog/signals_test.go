package dialog_test

import (
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
)

// TestSignals: the trigger words of every language, as whole folded words (case and accents
// ignored), phrases word for word, all three reported when present.
func TestSignals(t *testing.T) {
	e := fixture(t)
	tests := []struct {
		name string
		text string
		want dialog.Signals
	}{
		{"nothing", "", dialog.Signals{}},
		{"an answer", "not sure", dialog.Signals{}},
		{"the help word in capitals", "HELP", dialog.Signals{Help: true}},
		{"the help word in Greek, accented", "Βοήθεια!", dialog.Signals{Help: true}},
		{"the help word in Greek, in capitals without accents", "ΒΟΗΘΕΙΑ", dialog.Signals{Help: true}},
		{"the second help word of a list", "Voithia", dialog.Signals{Help: true}},
		{"the help word in a sentence", "i need help please", dialog.Signals{Help: true}},
		{"an emergency phrase that holds the help word", "help me", dialog.Signals{Help: true, Emergency: true}},
		{"an emergency phrase between other separators", "help-me!!", dialog.Signals{Help: true, Emergency: true}},
		{"an emergency word", "SOS", dialog.Signals{Emergency: true}},
		{"an emergency phrase in Greek", "Σώστε Με", dialog.Signals{Emergency: true}},
		{"an emergency word in Greek without accents", "κινδυνευω", dialog.Signals{Emergency: true}},
		{"the duress word", "Sunflower", dialog.Signals{Duress: true}},
		{"the duress word in Greek, in capitals", "ΗΛΙΟΤΡΌΠΙΟ", dialog.Signals{Duress: true}},
		{"all three", "help sos ηλιοτρόπιο", dialog.Signals{Help: true, Emergency: true, Duress: true}},
		{"the help word inside another", "helpful", dialog.Signals{}},
		{"a phrase cut short", "they will", dialog.Signals{}},
		{"a phrase with a word between", "help to me", dialog.Signals{Help: true}},
		{"a phrase at the very end", "please, they will kill me", dialog.Signals{Emergency: true}},
		{"the help word beyond MaxText", strings.Repeat("x", dialog.MaxText) + " help", dialog.Signals{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Signals(tt.text); got != tt.want {
				t.Errorf("Signals(%.40q) = %+v; want %+v", tt.text, got, tt.want)
			}
		})
	}
}

// TestSignalsInScriptsWithMarks: a word of a script whose vowels are marks between its
// letters (Bengali) is matched whole, not letter by letter.
func TestSignalsInScriptsWithMarks(t *testing.T) {
	w := newWords()
	w.texts["en"]["kw"] = "বাঁচান"
	e, err := dialog.Load(content(nil), w)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		"আমাকে বাঁচান": true,  // "save me"
		"বেচেন":        false, // "you sell": the same letters, other vowel signs
		"বাঁচানো":      false, // "saving": another word
	} {
		if got := e.Signals(text).Emergency; got != want {
			t.Errorf("Signals(%q).Emergency = %v; want %v", text, got, want)
		}
	}
}
