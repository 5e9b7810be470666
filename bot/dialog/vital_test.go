package dialog_test

import (
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
)

func TestVital(t *testing.T) {
	e := fixture(t)
	tests := []struct {
		name string
		in   dialog.Input
		want dialog.Vital
	}{
		{"/help", dialog.Input{Command: "help"}, dialog.AsksForHelp},
		{"/help typed", dialog.Input{Text: "/help"}, dialog.AsksForHelp},
		{"/HELP typed", dialog.Input{Text: "/HELP"}, dialog.AsksForHelp},
		{"/help with the bot's name", dialog.Input{Text: "/help@faros_bot"}, dialog.AsksForHelp},
		{"/stop", dialog.Input{Text: "/stop"}, dialog.MustPass},
		{"/wipe", dialog.Input{Command: "wipe"}, dialog.MustPass},
		{"/start", dialog.Input{Text: "/start"}, dialog.Ordinary},
		{"/language", dialog.Input{Command: "language"}, dialog.Ordinary},
		{"/start with an emergency word after it", dialog.Input{Text: "/start sos"}, dialog.Ordinary},
		{"an unknown command with a help word", dialog.Input{Text: "/fly help"}, dialog.AsksForHelp},
		{"the leave button", dialog.Input{Choice: dialog.Leave, Question: "screen.minor"}, dialog.MustPass},
		{"the leave button of an unknown question", dialog.Input{Choice: dialog.Leave}, dialog.MustPass},
		{"the leave label typed, Greek", dialog.Input{Text: "Φεύγω τώρα"}, dialog.MustPass},
		{"the leave label typed, English, in capitals", dialog.Input{Text: "LEAVE NOW"}, dialog.MustPass},
		{"delete, after /help", dialog.Input{Choice: "wipe", Question: "help.after"}, dialog.MustPass},
		{"go back, after /help", dialog.Input{Choice: "back", Question: "help.after"}, dialog.AsksForHelp},
		{"talk to someone now, in an emergency", dialog.Input{Choice: "now", Question: "emergency.offer"}, dialog.AsksForHelp},
		{"no, in an emergency", dialog.Input{Choice: "no", Question: "emergency.offer"}, dialog.AsksForHelp},
		{"a button without its question", dialog.Input{Choice: "now"}, dialog.Ordinary},
		{"a screening answer", dialog.Input{Choice: "yes", Question: "screen.minor"}, dialog.Ordinary},
		{"a menu button", dialog.Input{Choice: "numbers", Question: "menu.menu"}, dialog.Ordinary},
		{"a button of an unknown question", dialog.Input{Choice: "wipe", Question: "help.gone"}, dialog.Ordinary},
		{"the help word", dialog.Input{Text: "Βοήθεια"}, dialog.AsksForHelp},
		{"the help word in another spelling", dialog.Input{Text: "voithia"}, dialog.AsksForHelp},
		{"an emergency phrase", dialog.Input{Text: "σωστε με"}, dialog.AsksForHelp},
		{"the duress word", dialog.Input{Text: "ΗΛΙΟΤΡΟΠΙΟ"}, dialog.Watched},
		{"the duress word beside a help word", dialog.Input{Text: "help sunflower"}, dialog.Watched},
		{"an answer typed", dialog.Input{Text: "yes"}, dialog.Ordinary},
		{"other words", dialog.Input{Text: "hello there"}, dialog.Ordinary},
		{"a help word beyond MaxText", dialog.Input{Text: strings.Repeat("x", dialog.MaxText) + " help"}, dialog.Ordinary},
		{"nothing", dialog.Input{}, dialog.Ordinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Vital(tt.in); got != tt.want {
				t.Errorf("Vital(%+.60v) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

// A button must pass when it leads to the flow of /stop or /wipe, or ends the conversation,
// by its own transition or by its question's; any other button of the help flow asks for help.
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
		want             dialog.Vital
	}{
		{"yes", "main.q", dialog.Ordinary},
		{"no", "main.q", dialog.MustPass},    // end: wipe
		{"later", "main.q", dialog.MustPass}, // the question's goto: bye, the flow of /stop
		{"back", "numbers.n", dialog.AsksForHelp},
	}
	for _, tt := range tests {
		if got := e.Vital(dialog.Input{Choice: tt.choice, Question: tt.question}); got != tt.want {
			t.Errorf("Vital(%s/%s) = %v; want %v", tt.question, tt.choice, got, tt.want)
		}
	}
}
