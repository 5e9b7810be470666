package dialog_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
)

// A question that takes typed answers as well as a button.
const textMain = `id: main
start: q
nodes:
  q:
    ask: m_q
    choices:
      - {id: "yes", label: m_yes, next: done}
    text: {next: done}
  done:
    say: m_done
    end: resume
`

func TestTypedAnswers(t *testing.T) {
	e, err := dialog.Load(content(map[string]string{"main.yaml": textMain}), newWords())
	if err != nil {
		t.Fatal(err)
	}
	s, outs := steps(t, e, dialog.State{Lang: "fr"}, dialog.Input{Text: "hi"})
	if len(outs) != 1 || !outs[0].Text || outs[0].Msg != "m_q" {
		t.Fatalf("first outputs %+v; want the question, open to typed answers", outs)
	}
	// The label in the person's language is the button; anything else is the typed answer.
	got, _ := steps(t, e, s, dialog.Input{Text: " M_Yes "})
	if got.Answers["q"] != "yes" {
		t.Errorf("typed label: answer %q; want the choice id yes", got.Answers["q"])
	}
	got, outs = steps(t, e, s, dialog.Input{Text: "  my own words "})
	if got.Answers["q"] != "my own words" {
		t.Errorf("typed text: answer %q; want the text, trimmed", got.Answers["q"])
	}
	// end: resume with nothing interrupted goes home, which asks again.
	if diff := cmp.Diff([]string{"say:m_done", "ask:m_q"}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

// After a command's flow ends with resume, the interrupted question is asked again, and a
// goto elsewhere forgets it.
func TestResume(t *testing.T) {
	e := fixture(t)
	s, asking := atFixtureQuestion(t, e, "en", "free")
	got, outs := steps(t, e, s, dialog.Input{Command: "language"})
	if got.Back != "screen.free" || outs[0].Msg != "pick_language" {
		t.Fatalf("after /language: back %q, outputs %v", got.Back, kinds(outs))
	}
	got, outs = steps(t, e, got, dialog.Input{Choice: "el"})
	if diff := cmp.Diff([]string{"language:", asked(asking)}, kinds(outs)); diff != "" || got.Lang != "el" || got.Back != "" {
		t.Errorf("after choosing el: lang %q, back %q, outputs (-want +got):\n%s", got.Lang, got.Back, diff)
	}
	if outs[1].Lang != "el" {
		t.Errorf("the question is asked again in %q; want el", outs[1].Lang)
	}
	// An emergency word, then "now": consent is a new path, and the old question is left.
	got, _ = steps(t, e, s, dialog.Input{Text: "sos"}, dialog.Input{Choice: "now"})
	if got.Back != "" || got.Flow != "consent" {
		t.Errorf("after sos, now: at %s.%s, back %q; want consent and nothing to resume", got.Flow, got.Node, got.Back)
	}
	// A second interruption keeps the first question to go back to.
	got, _ = steps(t, e, s, dialog.Input{Command: "help"}, dialog.Input{Command: "language"}, dialog.Input{Choice: "en"})
	if got.Flow != "screen" || got.Node != "free" {
		t.Errorf("/help, /language, en: at %s.%s; want screen.free", got.Flow, got.Node)
	}
}

func TestJump(t *testing.T) {
	e := fixture(t)
	s, _ := steps(t, e, atMenu(t, e, "el"), append(pick("person", "yes"), dialog.Input{Text: "owl"})...)
	got, outs, err := e.Jump(s, "screen")
	if err != nil || got.Flow != "screen" || got.Node != "minor" || outs[0].Lang != "el" {
		t.Errorf("Jump(screen) = %s.%s, %v, %v; want the screening's first question in Greek", got.Flow, got.Node, kinds(outs), err)
	}
	// It forgets the question a command interrupted, and starts an ended conversation again.
	interrupted, _ := steps(t, e, s, dialog.Input{Command: "help"})
	ended, _ := steps(t, e, s, dialog.Input{Command: "stop"})
	for _, s := range []dialog.State{interrupted, ended} {
		if got, _, err := e.Jump(s, "menu"); err != nil || got.Ended || got.Back != "" || got.Node != "menu" {
			t.Errorf("Jump(menu) from %+v = %+v, %v", s, got, err)
		}
	}
	if _, _, err := e.Jump(s, "nowhere"); err == nil {
		t.Error("Jump to a missing flow succeeded")
	}
}
