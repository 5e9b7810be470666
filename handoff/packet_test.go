package handoff

import (
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/handoff/roster"
)

// Each answer shows under the answer given, as its own question's brief.
func TestAnswersShowUnderWhatWasAnswered(t *testing.T) {
	p := packet{Answers: []dialog.Answer{
		{Question: "threats", Brief: "απειλές", Choice: "no", Code: "intimidation_threats"},
		{Question: "afraid", Brief: "φοβάται", Choice: "yes", Code: "intimidation_threats", Positive: true},
		{Question: "can_leave", Brief: "δεν μπορεί να φύγει", Choice: "no", Code: "restriction_of_movement", Positive: true},
		{Question: "documents", Brief: "έγγραφα", Choice: "unsure", Code: "retention_of_documents"},
		{Question: "debt", Choice: "skip", Code: "debt_bondage"}, // a packet sealed before briefs
	}}
	want := "Ισχύει (ένδειξη) · applies (indicator): φοβάται · δεν μπορεί να φύγει\n" +
		"Δεν ξέρει · unsure: έγγραφα\n" +
		"Δεν απάντησε · skipped: debt_bondage\n" +
		"Δεν ισχύει · does not apply: απειλές\n"
	if got := p.answers(); got != want {
		t.Errorf("answers:\n%s\nwant\n%s", got, want)
	}
}

func TestInterpreterForTheReader(t *testing.T) {
	r := &record{Tier: 1, Created: time.Unix(0, 0)}
	fr := roster.Operator{Languages: []string{"el", "fr"}}
	en := roster.Operator{Languages: []string{"el", "en"}}
	for _, tt := range []struct {
		lang string
		to   roster.Operator
		need bool
	}{{"fr", fr, false}, {"fr", en, true}, {"en", fr, true}, {"en", en, false}, {"el", roster.Operator{}, false}} {
		got := view{p: packet{Lang: tt.lang}, r: r, to: tt.to, loc: time.UTC}.render()
		if strings.Contains(got, "διερμηνέα") != tt.need {
			t.Errorf("%s to an operator speaking %v: interpreter %v; want %v", tt.lang, tt.to.Languages, !tt.need, tt.need)
		}
	}
}

// The likely form and the indicators' names come from the content's list (triggers.yaml).
func TestKindAndNamesFromTheContent(t *testing.T) {
	p := packet{Indicators: []string{"wages", "fear"}, Answers: []dialog.Answer{
		{Question: "wages", Code: "wages", Kind: "labour", Positive: true, Names: map[string]string{"el": "απλήρωτη δουλειά", "en": "unpaid work"}},
		{Question: "fear", Code: "fear", Kind: "other", Positive: true, Names: map[string]string{"el": "φόβος"}},
		{Question: "sex", Code: "sex", Kind: "sexual", Choice: "no"},
	}}
	if el, en := p.kind(); el != "εργασιακή" || en != "labour" {
		t.Errorf("kind %s, %s; want labour (sexual was answered no)", el, en)
	}
	if got := p.indicators("el"); got != "απλήρωτη δουλειά · φόβος" {
		t.Errorf("the Greek indicators: %q", got)
	}
	if got := p.indicators("en"); got != "unpaid work · fear" {
		t.Errorf("the English indicators, falling back to the code: %q", got)
	}
}
