package dialog_test

import (
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
)

func TestSignals(t *testing.T) {
	e := shipped(t)
	tests := []struct {
		name string
		text string
		want dialog.Signals
	}{
		{"nothing", "", dialog.Signals{}},
		{"an answer", "not sure", dialog.Signals{}},
		{"the help word", "HELP", dialog.Signals{Help: true}},
		{"the help word in Greek, accented", "Βοήθεια!", dialog.Signals{Help: true}},
		{"the help word in Greeklish", "voh8eia", dialog.Signals{Help: true}},
		{"the help word in a French sentence", "j'ai besoin d'aide svp", dialog.Signals{Help: true}},
		{"the help word in Albanian", "NDIHMË", dialog.Signals{Help: true}},
		{"an emergency phrase that holds the help word", "help me", dialog.Signals{Help: true, Emergency: true}},
		{"an emergency phrase in French", "à l'aide", dialog.Signals{Help: true, Emergency: true}},
		{"an emergency word", "SOS", dialog.Signals{Emergency: true}},
		{"the duress word", "Sunflower", dialog.Signals{Duress: true}},
		{"all three", "help sos ηλιοτρόπιο", dialog.Signals{Help: true, Emergency: true, Duress: true}},
		{"the help word inside another", "helpful", dialog.Signals{}},
		{"a phrase cut short", "they will", dialog.Signals{}},
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
