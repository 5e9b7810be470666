package handoff

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/locales"
)

// Each label names a screening question of the shipped content, in its own words: a label
// taken from another question (afraid shown as "threats") would mislead the counsellor. A
// question without a label (an editor added it, no Go) shows as it was asked, in Greek.
func TestScreeningLabels(t *testing.T) {
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dialog.Load(flows.Files, cat)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for q, label := range questionNames {
		if !slices.Contains(e.Screening(), q) {
			t.Errorf("questionNames labels %q, which is not a screening question", q)
		}
		if other, dup := seen[label]; dup {
			t.Errorf("questions %q and %q share the label %q", other, q, label)
		}
		seen[label] = q
	}
	p := packet{Answers: []dialog.Answer{{Question: "paid_fee", Msg: "q_debt", Choice: "yes", Code: "debt_bondage", Positive: true}}}
	asked := func(msg string) string { return "«" + cat.Render("el", msg, nil) + "»" }
	if got := p.answers(asked); !strings.Contains(got, "«"+cat.Render("el", "q_debt", nil)+"»") {
		t.Errorf("a question without a label: %q; want it as asked, in Greek", got)
	}
}

// Each answer shows under the answer given, with its own question's label.
func TestAnswersShowUnderWhatWasAnswered(t *testing.T) {
	p := packet{Answers: []dialog.Answer{
		{Question: "threats", Choice: "no", Code: "intimidation_threats"},
		{Question: "afraid", Choice: "yes", Code: "intimidation_threats", Positive: true},
		{Question: "can_leave", Choice: "no", Code: "restriction_of_movement", Positive: true},
		{Question: "documents", Choice: "unsure", Code: "retention_of_documents"},
		{Question: "debt", Choice: "skip", Code: "debt_bondage"},
	}}
	want := "Ισχύει (ένδειξη) · applies (indicator): φοβάται τι θα γίνει αν σταματήσει ή φύγει · δεν μπορεί να σταματήσει ή να φύγει\n" +
		"Δεν ξέρει · unsure: κρατούν το διαβατήριο ή την ταυτότητα\n" +
		"Δεν απάντησε · skipped: χρέος που μεγαλώνει\n" +
		"Δεν ισχύει · does not apply: απειλές, και στην οικογένεια (αστυνομία, απέλαση, κατάρα ή όρκος juju)\n"
	if got := p.answers(nil); got != want {
		t.Errorf("answers:\n%s\nwant\n%s", got, want)
	}
}

func TestInterpreterForTheReader(t *testing.T) {
	r := &record{Tier: 1, Created: time.Unix(0, 0)}
	fr := Operator{Languages: []string{"el", "fr"}}
	en := Operator{Languages: []string{"el", "en"}}
	for _, tt := range []struct {
		lang string
		to   Operator
		need bool
	}{{"fr", fr, false}, {"fr", en, true}, {"en", fr, true}, {"en", en, false}, {"el", Operator{}, false}} {
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
