package dialog_test

import (
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
)

func TestVital(t *testing.T) {
	e := shipped(t)
	tests := []struct {
		name string
		in   dialog.Input
		want bool
	}{
		{"/help", dialog.Input{Command: "help"}, true},
		{"/help typed", dialog.Input{Text: "/help"}, true},
		{"/HELP typed", dialog.Input{Text: "/HELP"}, true},
		{"/help with the bot's name", dialog.Input{Text: "/help@faros_bot"}, true},
		{"/stop", dialog.Input{Text: "/stop"}, true},
		{"/wipe", dialog.Input{Command: "wipe"}, true},
		{"/start", dialog.Input{Text: "/start"}, false},
		{"/language", dialog.Input{Command: "language"}, false},
		{"/start with an emergency word after it", dialog.Input{Text: "/start sos"}, false},
		{"an unknown command with a help word", dialog.Input{Text: "/fly help"}, true},
		{"the leave button", dialog.Input{Choice: dialog.Leave, Question: "screening.minor"}, true},
		{"the leave button of an unknown question", dialog.Input{Choice: dialog.Leave}, true},
		{"the leave label typed", dialog.Input{Text: "Φεύγω τώρα"}, true},
		{"delete, after /help", dialog.Input{Choice: "wipe", Question: "help.after"}, true},
		{"go back, after /help", dialog.Input{Choice: "back", Question: "help.after"}, true},
		{"talk to someone now, in an emergency", dialog.Input{Choice: "now", Question: "emergency.emergency_offer"}, true},
		{"no, in an emergency", dialog.Input{Choice: "no", Question: "emergency.emergency_offer"}, true},
		{"a button without its question", dialog.Input{Choice: "now"}, false},
		{"a screening answer", dialog.Input{Choice: "yes", Question: "screening.minor"}, false},
		{"a menu button", dialog.Input{Choice: "numbers", Question: "menu.menu"}, false},
		{"a button of an unknown question", dialog.Input{Choice: "wipe", Question: "help.gone"}, false},
		{"the help word", dialog.Input{Text: "Βοήθεια"}, true},
		{"an emergency word", dialog.Input{Text: "au secours"}, true},
		{"the duress word", dialog.Input{Text: "tournesol"}, true},
		{"an answer typed", dialog.Input{Text: "yes"}, false},
		{"other words", dialog.Input{Text: "hello there"}, false},
		{"a help word beyond MaxText", dialog.Input{Text: strings.Repeat("x", dialog.MaxText) + " help"}, false},
		{"nothing", dialog.Input{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Vital(tt.in); got != tt.want {
				t.Errorf("Vital(%+.60v) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

// A button is vital when it leads to the flow of /stop or /wipe, or ends the conversation,
// by its own transition or by its question's.
func TestVitalButtonsThatLeave(t *testing.T) {
	e, err := dialog.Load(content(map[string]string{
		"triggers.yaml": replace(replace(replace(baseTriggers,
			"help: main, stop: main, wipe: main}", "help: numbers, stop: bye, wipe: bye}"),
			"{keywords: kw, flow: main}", "{keywords: kw, flow: numbers}"),
			"{keywords: kw3, flow: main}", "{keywords: kw3, flow: numbers}"),
		"main.yaml": `id: main
start: q
nodes:
  q:
    ask: m_q
    choices:
      - {id: "yes", label: m_yes, next: done}
      - {id: "no", label: m_no, end: wipe}
      - {id: later, label: m_x}
    goto: bye
  done:
    say: m_done
    end: resume
`,
		"numbers.yaml": "id: numbers\nstart: n\nnodes:\n  n:\n    ask: m_x\n    choices: [{id: back, label: m_yes, end: resume}]\n",
		"bye.yaml":     "id: bye\nstart: b\nnodes:\n  b:\n    say: m_done\n    end: stop\n",
	}), newWords())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		choice, question string
		want             bool
	}{
		{"yes", "main.q", false},
		{"no", "main.q", true},    // end: wipe
		{"later", "main.q", true}, // the question's goto: bye, the flow of /stop
		{"back", "numbers.n", true},
	}
	for _, tt := range tests {
		if got := e.Vital(dialog.Input{Choice: tt.choice, Question: tt.question}); got != tt.want {
			t.Errorf("Vital(%s/%s) = %v; want %v", tt.question, tt.choice, got, tt.want)
		}
	}
}
