package dialog_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
)

// The walks through the shipped screening, by question id and calm answers, are in
// flows/flows_test.go; these tests check, on the fixture, the engine's lists they rely on.

// TestScreening: the screening questions are those with an indicator or a choice that sets a
// flag, in file order (a follow-up too); not the other questions, nor a secret one.
func TestScreening(t *testing.T) {
	e := fixture(t)
	if diff := cmp.Diff([]string{"minor", "lies", "free", "papers", "locked"}, e.Screening()); diff != "" {
		t.Errorf("Screening() (-want +got):\n%s", diff)
	}
}

// TestCalm: every question with choices gets an answer that counts for nothing: "no", or
// "yes" where "no" is the positive answer, never a choice that sets a flag; else "skip", else
// its first choice. A question without choices (languages, typed text) has none.
func TestCalm(t *testing.T) {
	e := fixture(t)
	want := map[string]string{
		"screen.minor": "no", "screen.lies": "no", "screen.free": "yes", "screen.papers": "no", "screen.locked": "no",
		"consent.agree": "no", "consent.waiting": "numbers", "menu.menu": "check", "help.after": "back", "emergency.offer": "no",
	}
	if diff := cmp.Diff(want, e.Calm()); diff != "" {
		t.Errorf("Calm() (-want +got):\n%s", diff)
	}
	// Answered calmly, the screening counts nothing and goes back to the menu.
	calm := e.Calm()
	s, outs := steps(t, e, atMenu(t, e, "en"), pick("check")...)
	var answered []string
	for last := outs[len(outs)-1]; slices.Contains(e.Screening(), nodeID(last.Question)); last = outs[len(outs)-1] {
		answered = append(answered, nodeID(last.Question))
		s, outs = steps(t, e, s, dialog.Input{Choice: calm[last.Question], Question: last.Question})
	}
	if diff := cmp.Diff([]string{"minor", "lies", "free", "papers"}, answered); diff != "" || s.Tier != 0 || len(s.Flags) != 0 || asked(outs) != "ask:menu" {
		t.Errorf("the calm walk: tier %d, flags %v, ended with %v; questions (-want +got):\n%s", s.Tier, s.Flags, kinds(outs), diff)
	}
}
