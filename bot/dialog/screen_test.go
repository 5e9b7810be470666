package dialog_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
)

// The tests find their way through the shipped screening by the ids of its questions and by
// what the engine asks, never by position: a question an editor adds, anywhere, is answered
// with an answer that counts for nothing, and no test needs a change.

// screenStep is one screening question as the engine asked it, and the answer given.
type screenStep struct {
	State    dialog.State    // the state waiting at the question
	Outs     []dialog.Output // the outputs that asked it, the question last
	Question string          // its node id
	Choice   string          // the answer given
}

// walkScreening answers the screening questions that the engine asks from s on (outs are the
// outputs that left s, the question waiting last): answers[id] where given, otherwise a calm
// answer. It stops before the question stop (when not ""), or when no screening question
// waits any more. It returns the state and outputs where it stopped and the questions
// answered, in order.
func walkScreening(t testing.TB, e *dialog.Engine, s dialog.State, outs []dialog.Output, answers map[string]string, stop string) (dialog.State, []dialog.Output, []screenStep) {
	t.Helper()
	calm := e.Calm()
	var done []screenStep
	for range 200 {
		if len(outs) == 0 || outs[len(outs)-1].Kind != dialog.Ask {
			return s, outs, done
		}
		q := outs[len(outs)-1].Question
		id := nodeID(q)
		if !slices.Contains(e.Screening(), id) {
			if stop != "" {
				t.Fatalf("the screening ended at %s before the question %q", q, stop)
			}
			return s, outs, done
		}
		if id == stop {
			return s, outs, done
		}
		choice, ok := answers[id]
		if !ok {
			choice = calm[q]
		}
		if choice == "" {
			t.Fatalf("no answer for the question %s", q)
		}
		step := screenStep{State: s, Outs: outs, Question: id, Choice: choice}
		var err error
		if s, outs, err = e.Step(s, dialog.Input{Choice: choice, Question: q}); err != nil {
			t.Fatalf("answering %s with %q: %v", q, choice, err)
		}
		if s.Answers[id] != choice {
			t.Fatalf("answering %s with %q: the state holds %q", q, choice, s.Answers[id])
		}
		done = append(done, step)
	}
	t.Fatal("the screening asks more than 200 questions")
	return s, outs, done
}

// screening starts the screening of a conversation at the menu and answers every question
// (answers[id] where given, otherwise calmly). It returns the state and outputs after the
// last answer (the result) and the questions answered, in order.
func screening(t testing.TB, e *dialog.Engine, s dialog.State, answers map[string]string) (dialog.State, []dialog.Output, []screenStep) {
	t.Helper()
	s, outs := steps(t, e, s, pick("check")...)
	return walkScreening(t, e, s, outs, answers, "")
}

// atQuestion is a conversation in lang waiting at the screening question q, the questions
// before it answered calmly; outs are the outputs that asked it, the question last.
func atQuestion(t testing.TB, e *dialog.Engine, lang, q string) (dialog.State, []dialog.Output) {
	t.Helper()
	s, outs := steps(t, e, atMenu(t, e, lang), pick("check")...)
	s, outs, _ = walkScreening(t, e, s, outs, nil, q)
	if got := outs[len(outs)-1].Question; got != "screening."+q {
		t.Fatalf("waiting at %s; want screening.%s", got, q)
	}
	return s, outs
}

// nodeID is the node of a question "flow.node".
func nodeID(q string) string { return strings.TrimPrefix(path.Ext(q), ".") }

// asked is the kind and message of the question that outs ask ("ask:q_promise").
func asked(outs []dialog.Output) string {
	return kinds(outs[len(outs)-1:])[0]
}

// TestWalkScreeningAnswersEveryQuestion checks the helpers themselves: a calm walk answers
// every screening question it meets once, with nothing counted, and ends at the result.
func TestWalkScreeningAnswersEveryQuestion(t *testing.T) {
	e := shipped(t)
	s, outs, done := screening(t, e, atMenu(t, e, "en"), nil)
	if len(done) < 2 {
		t.Fatalf("%d questions answered", len(done))
	}
	seen := map[string]bool{}
	for _, d := range done {
		if seen[d.Question] {
			t.Errorf("%s asked twice", d.Question)
		}
		seen[d.Question] = true
	}
	if s.Tier != 0 || len(s.Flags) != 0 {
		t.Errorf("calm answers reached tier %d, flags %v; want nothing counted", s.Tier, s.Flags)
	}
	if slices.Contains(e.Screening(), nodeID(outs[len(outs)-1].Question)) {
		t.Errorf("the walk stopped at a screening question: %v", kinds(outs))
	}
}
