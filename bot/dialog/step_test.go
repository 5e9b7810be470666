package dialog_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/flows/transcript"
	"github.com/faros-project/faros/locales"
)

// shipped loads the real content: the tests that check the shipped flows themselves.
func shipped(t testing.TB) *dialog.Engine {
	t.Helper()
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatalf("locales: %v", err)
	}
	e, err := dialog.Load(flows.Files, cat)
	if err != nil {
		t.Fatalf("flows: %v", err)
	}
	return e
}

// steps applies inputs in order and returns the final state and the last outputs.
func steps(t testing.TB, e *dialog.Engine, s dialog.State, inputs ...dialog.Input) (dialog.State, []dialog.Output) {
	t.Helper()
	var outs []dialog.Output
	var err error
	for _, in := range inputs {
		if s, outs, err = e.Step(s, in); err != nil {
			t.Fatalf("Step(%+v): %v", in, err)
		}
	}
	return s, outs
}

func pick(ids ...string) []dialog.Input {
	var ins []dialog.Input
	for _, id := range ids {
		ins = append(ins, dialog.Input{Choice: id})
	}
	return ins
}

// atMenu is a conversation in lang that has passed the welcome.
func atMenu(t testing.TB, e *dialog.Engine, lang string) dialog.State {
	s, _ := steps(t, e, dialog.State{}, append([]dialog.Input{{Command: "start"}}, pick(lang, "safe")...)...)
	if s.Node != "menu" {
		t.Fatalf("after the welcome the conversation waits at %s.%s; want menu.menu", s.Flow, s.Node)
	}
	return s
}

func kinds(outs []dialog.Output) []string {
	var ks []string
	for _, o := range outs {
		ks = append(ks, o.Kind.String()+":"+o.Msg)
	}
	return ks
}

func TestStepFirstInputStartsTheEntryFlow(t *testing.T) {
	e := shipped(t)
	s, outs := steps(t, e, dialog.State{}, dialog.Input{Text: "hello"})
	if diff := cmp.Diff([]string{"ask:language_prompt"}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	var want []dialog.Choice
	for _, lang := range e.Languages() {
		want = append(want, dialog.Choice{ID: lang, Label: "language_name", Lang: lang})
	}
	want = append(want, dialog.Choice{ID: dialog.Leave, Label: "choice_leave"})
	if len(want) < 3 || outs[0].Lang != "" || !cmp.Equal(outs[0].Choices, want) {
		t.Errorf("language question = %+v; want every language (%v), each named in itself, and leave now", outs[0], e.Languages())
	}
	if s.Flow != "welcome" || s.Node != "language" {
		t.Errorf("waiting at %s.%s; want welcome.language", s.Flow, s.Node)
	}
}

func TestStepCommandsInAnyCaseAndWithBotName(t *testing.T) {
	e := shipped(t)
	s := atMenu(t, e, "en")
	for _, text := range []string{"/help", "/HELP", "/help@faros_bot", "/help please"} {
		help, outs := steps(t, e, s, dialog.Input{Text: text})
		if diff := cmp.Diff([]string{"say:help_numbers", "ask:help_after"}, kinds(outs)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
		// "Go back" returns to the question /help interrupted; the other button wipes.
		if _, outs := steps(t, e, help, dialog.Input{Choice: "back"}); !slices.Equal(kinds(outs), []string{"ask:menu_question"}) {
			t.Errorf("%q, then back: %v; want the menu again", text, kinds(outs))
		}
		if _, outs := steps(t, e, help, dialog.Input{Choice: "wipe"}); outs[len(outs)-1].Kind != dialog.End || !outs[len(outs)-1].Wipe {
			t.Errorf("%q, then wipe: %v; want the wipe", text, kinds(outs))
		}
	}
	if _, _, err := e.Step(s, dialog.Input{Command: "fly"}); err == nil {
		t.Error("Step with the command \"fly\" succeeded; want an error")
	}
	// An unknown command typed by a person is text the bot does not understand.
	_, outs := steps(t, e, s, dialog.Input{Text: "/fly"})
	if diff := cmp.Diff([]string{"say:not_understood", "ask:menu_question"}, kinds(outs)); diff != "" {
		t.Errorf("/fly (-want +got):\n%s", diff)
	}
}

func TestStepTypedLabelCountsAsTheChoice(t *testing.T) {
	e := shipped(t)
	s, _ := atQuestion(t, e, "el", "minor")
	for _, typed := range []string{"ΝΑΙ", "ναι", "Ναί", "  ναι "} {
		got, _ := steps(t, e, s, dialog.Input{Text: typed})
		if got.Answers["minor"] != "yes" {
			t.Errorf("typed %q: answer = %q; want yes", typed, got.Answers["minor"])
		}
	}
	// A label of another language is not an answer in Greek.
	got, outs := steps(t, e, s, dialog.Input{Text: "Yes"})
	if got.Answers["minor"] != "" || outs[0].Msg != "not_understood" {
		t.Errorf("typed \"Yes\" in Greek: answer %q, first output %q; want none, not_understood", got.Answers["minor"], outs[0].Msg)
	}
}

func TestStepOutdatedButtonChangesNothing(t *testing.T) {
	e := shipped(t)
	s, asking := atQuestion(t, e, "fr", "danger")
	got, outs := steps(t, e, s, dialog.Input{Choice: "safe"})
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"say:choice_outdated", asked(asking)}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func TestStepEmergencyWordsFromAnywhere(t *testing.T) {
	e := shipped(t)
	s, asking := atQuestion(t, e, "en", "promise")
	for _, text := range []string{"SOS", "please help me now", "Σώστε με!", "au secours", "jam në rrezik", "they will kill me"} {
		got, outs := steps(t, e, s, dialog.Input{Text: text})
		if len(outs) == 0 || outs[0].Msg != "emergency_numbers" {
			t.Errorf("%q: first output %v; want emergency_numbers", text, kinds(outs))
		}
		if got.Tier != 0 {
			t.Errorf("%q: tier %d; want 0 until the person asks for a counsellor", text, got.Tier)
		}
		if now, _ := steps(t, e, got, dialog.Input{Choice: "now"}); now.Tier != 3 || now.Reason != "emergency" {
			t.Errorf("%q, then now: tier %d (%s); want 3 (emergency)", text, now.Tier, now.Reason)
		}
		// Declining goes back to the interrupted question.
		_, outs = steps(t, e, got, dialog.Input{Choice: "no"})
		if diff := cmp.Diff([]string{asked(asking)}, kinds(outs)); diff != "" {
			t.Errorf("%q then no (-want +got):\n%s", text, diff)
		}
	}
	// Words are matched whole: "helpful" and "dangerous" are not emergency words.
	for _, text := range []string{"helpful", "dangerous work"} {
		if _, outs := steps(t, e, s, dialog.Input{Text: text}); outs[0].Msg == "emergency_numbers" {
			t.Errorf("%q opened the emergency flow", text)
		}
	}
}

func TestStepResumesAfterContentChange(t *testing.T) {
	e := shipped(t)
	s := atMenu(t, e, "sq")
	_, start := steps(t, e, s, pick("check")...) // the screening from its start
	s.Flow, s.Node = "screening", "removed_question"
	got, outs := steps(t, e, s, dialog.Input{Choice: "yes"})
	if diff := cmp.Diff(append([]string{"say:content_changed"}, kinds(start)...), kinds(outs)); diff != "" || start[len(start)-1].Kind != dialog.Ask {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got.Lang != "sq" {
		t.Errorf("language = %q; want sq kept", got.Lang)
	}
	s.Flow = "removed_flow"
	if _, outs = steps(t, e, s, dialog.Input{Text: "hi"}); outs[0].Msg != "content_changed" || outs[1].Msg != "language_prompt" {
		t.Errorf("removed flow: outputs %v; want content_changed, then the entry", kinds(outs))
	}
}

func TestStepDoesNotChangeTheGivenState(t *testing.T) {
	e := shipped(t)
	s, outs := steps(t, e, atMenu(t, e, "en"), pick("check")...)
	s, _, _ = walkScreening(t, e, s, outs, map[string]string{"minor": "yes"}, "danger") // with answers and flags
	before := clone(t, s)
	steps(t, e, s, pick("yes", "yes", "no")...)
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("the caller's state changed (-before +after):\n%s", diff)
	}
}

func TestStateRoundTripsThroughJSON(t *testing.T) {
	e := shipped(t)
	_, _, done := screening(t, e, atMenu(t, e, "el"), map[string]string{"minor": "yes", "promise": "yes", "sex_money": "yes", "can_leave": "no"})
	s := done[6].State // six screening answers, one setting a flag
	if n := len(slices.DeleteFunc(slices.Collect(maps.Keys(s.Answers)), func(q string) bool { return !slices.Contains(e.Screening(), q) })); n != 6 || len(s.Flags) == 0 {
		t.Fatalf("the state has %d screening answers (%v), flags %v; want six and flags", n, s.Answers, s.Flags)
	}
	if got := clone(t, s); !reflect.DeepEqual(got, s) {
		t.Errorf("JSON round trip: got %+v; want %+v", got, s)
	}
	b, _ := json.Marshal(s)
	if len(b) > 400 {
		t.Errorf("a state of six answers takes %d bytes of JSON; want it small (≤ 400)", len(b))
	}
}

func clone(t testing.TB, s dialog.State) dialog.State {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out dialog.State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHandoffCarriesTierReasonAndIndicators(t *testing.T) {
	e := shipped(t)
	// promise (I), documents (C), debt (C): tier 2; then consent. Every other question gets an
	// answer that counts for nothing (can_leave: "yes").
	positive := []string{"promise", "documents", "debt"}
	s, _, done := screening(t, e, atMenu(t, e, "en"), map[string]string{"promise": "yes", "documents": "yes", "debt": "yes"})
	_, outs := steps(t, e, s, append(pick("yes", "yes", "ngo"), dialog.Input{Text: "blue heron"})...)
	var h *dialog.Output
	for i := range outs {
		if outs[i].Kind == dialog.Handoff {
			h = &outs[i]
		}
	}
	if h == nil {
		t.Fatalf("no handoff in %v", kinds(outs))
	}
	want := dialog.Output{Kind: dialog.Handoff, Tier: 2, Reason: "likely", Indicators: []string{"deception", "retention_of_documents", "debt_bondage"},
		Secrets: map[string]string{"codeword": "blue heron"}}
	answers := h.Answers
	h.Answers = nil
	if diff := cmp.Diff(want, *h); diff != "" {
		t.Errorf("handoff (-want +got):\n%s", diff)
	}
	// Every screening question answered, in the order asked, none that was not asked (hurt_now
	// and locked); the positive ones marked.
	var asked []dialog.Answer
	for _, d := range done {
		asked = append(asked, dialog.Answer{Question: d.Question, Choice: d.Choice, Positive: slices.Contains(positive, d.Question)})
	}
	ignored := cmp.FilterPath(func(p cmp.Path) bool {
		return slices.Contains([]string{".Code", ".Msg", ".Brief", ".Kind", ".Names"}, p.Last().String())
	}, cmp.Ignore())
	if diff := cmp.Diff(asked, answers, ignored); diff != "" {
		t.Errorf("the handoff's answers (-want +got):\n%s", diff)
	}
	for _, a := range answers {
		if a.Brief == "" {
			t.Errorf("%s: the handoff's answer carries no brief for the counsellors", a.Question)
		}
	}
	for _, q := range []string{"hurt_now", "locked"} {
		if slices.ContainsFunc(answers, func(a dialog.Answer) bool { return a.Question == q }) || !slices.Contains(e.Screening(), q) {
			t.Errorf("%s: a screening question not asked is in the handoff", q)
		}
	}
	// Each with its indicator (can_leave's positive answer is "no").
	wantAnswers := []dialog.Answer{{Question: "minor", Choice: "no"}, {Question: "danger", Choice: "no", Code: "violence_threats"},
		{Question: "promise", Choice: "yes", Code: "deception", Positive: true}, {Question: "not_agreed", Choice: "no", Code: "deception"},
		{Question: "sex_money", Choice: "no", Code: "sexual_exploitation"}, {Question: "can_leave", Choice: "yes", Code: "restriction_of_movement"},
		{Question: "documents", Choice: "yes", Code: "retention_of_documents", Positive: true}}
	known := slices.DeleteFunc(slices.Clone(answers), func(a dialog.Answer) bool {
		return !slices.ContainsFunc(wantAnswers, func(w dialog.Answer) bool { return w.Question == a.Question })
	})
	for _, a := range known {
		if a.Msg != "q_"+a.Question { // the shipped content names each question's message so
			t.Errorf("question %s: message %q", a.Question, a.Msg)
		}
		// The kind of the indicator, from triggers.yaml, and its names for a positive answer.
		if wantKind := map[string]string{"retention_of_documents": "labour", "sexual_exploitation": "sexual", "deception": "other"}[a.Code]; wantKind != "" && a.Kind != wantKind {
			t.Errorf("question %s: kind %q; want %q", a.Question, a.Kind, wantKind)
		}
		if a.Positive != (a.Names["el"] != "") && a.Code != "" {
			t.Errorf("question %s (positive %v): names %v", a.Question, a.Positive, a.Names)
		}
	}
	if diff := cmp.Diff(wantAnswers, known, cmp.FilterPath(func(p cmp.Path) bool {
		return slices.Contains([]string{".Msg", ".Brief", ".Kind", ".Names"}, p.Last().String())
	}, cmp.Ignore())); diff != "" {
		t.Errorf("the handoff's answers to %d known questions (-want +got):\n%s", len(wantAnswers), diff)
	}
	final, _ := steps(t, e, s, append(pick("yes", "yes", "ngo"), dialog.Input{Text: "blue heron"})...)
	if _, kept := final.Answers["codeword"]; kept {
		t.Error("the state keeps the code word")
	}
}

// The duress word gets an innocent answer, raises the tier, leaves the question waiting, and
// alerts the operators only if the person agreed to talk to one.
func TestDuress(t *testing.T) {
	e := shipped(t)
	s, _ := atQuestion(t, e, "el", "promise")
	got, outs := steps(t, e, s, dialog.Input{Text: "Ηλιοτρόπιο"})
	if diff := cmp.Diff([]string{"say:duress_reply"}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got.Tier != 3 || got.Reason != "duress" || got.Node != s.Node || got.Flow != s.Flow {
		t.Errorf("after the duress word: tier %d (%s) at %s.%s; want 3 (duress) at %s.%s", got.Tier, got.Reason, got.Flow, got.Node, s.Flow, s.Node)
	}
	if next, _ := steps(t, e, got, dialog.Input{Choice: "no"}); next.Answers["promise"] != "no" {
		t.Error("the waiting question no longer takes its answer")
	}
	consented, _ := steps(t, e, atMenu(t, e, "fr"), pick("person", "yes", "ekka", "no", "skip")...)
	if _, outs := steps(t, e, consented, dialog.Input{Text: "tournesol"}); len(outs) != 2 || outs[0].Kind != dialog.Handoff || outs[0].Tier != 3 || outs[0].Reason != "duress" {
		t.Errorf("the duress word after consent: %v; want an urgent handoff, then the innocent answer", kinds(outs))
	}
}

// Every question has the leave-now button; pressing or typing it is /stop.
func TestLeaveNow(t *testing.T) {
	e := shipped(t)
	s, outs := steps(t, e, atMenu(t, e, "en"), pick("check")...)
	if last := outs[len(outs)-1].Choices; last[len(last)-1] != (dialog.Choice{ID: dialog.Leave, Label: "choice_leave"}) {
		t.Fatalf("the last button is %+v; want leave now", last[len(last)-1])
	}
	for _, in := range []dialog.Input{{Choice: dialog.Leave, Question: "screening.minor"}, {Choice: dialog.Leave, Question: "old.question"}, {Text: "leave NOW"}} {
		got, outs := steps(t, e, s, in)
		if diff := cmp.Diff([]string{"say:goodbye", "end:"}, kinds(outs)); diff != "" || !got.Ended {
			t.Errorf("%+v: outputs (-want +got):\n%s", in, diff)
		}
	}
}

func TestWipeForgetsEverything(t *testing.T) {
	e := shipped(t)
	s, _ := steps(t, e, atMenu(t, e, "en"), pick("check", "yes", "yes")...)
	got, outs := steps(t, e, s, dialog.Input{Text: "/wipe"})
	if last := outs[len(outs)-1]; last.Kind != dialog.End || !last.Wipe {
		t.Errorf("last output %+v; want End with Wipe", last)
	}
	if !reflect.DeepEqual(got, dialog.State{Ended: true}) {
		t.Errorf("state after /wipe = %+v; want nothing but Ended", got)
	}
}

// FuzzStep feeds any sequence of inputs to the shipped flows, seeded with the person's side
// of every transcript. Whatever comes in, Step must not fail, must answer every input, and
// must leave a state that names a waiting question and survives JSON.
func FuzzStep(f *testing.F) {
	files, _ := filepath.Glob("../../flows/testdata/*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		sc, err := transcript.Parse(file, data)
		if err != nil {
			f.Fatal(err)
		}
		var lines []string
		for _, turn := range sc.Turns {
			lines = append(lines, turn.Input)
		}
		f.Add(strings.Join(lines, "\n"))
	}
	e := shipped(f)
	f.Fuzz(func(t *testing.T, script string) {
		var s dialog.State
		for i, line := range strings.Split(script, "\n") {
			if i == 200 {
				break
			}
			next, outs, err := e.Step(s, transcript.Input(line))
			if errors.Is(err, dialog.ErrLoop) || err != nil {
				t.Fatalf("input %d %q: %v", i, line, err)
			}
			if len(outs) == 0 {
				t.Fatalf("input %d %q got no answer", i, line)
			}
			if !next.Ended && (next.Node == "" || outs[len(outs)-1].Kind != dialog.Ask) {
				t.Fatalf("input %d %q: state %+v, last output %v; want a question waiting", i, line, next, outs[len(outs)-1].Kind)
			}
			if got := clone(t, next); !reflect.DeepEqual(got, next) {
				t.Fatalf("input %d: state does not survive JSON: %+v", i, next)
			}
			s = next
		}
	})
}

// BenchmarkStep answers one screening question with a button: the common step.
func BenchmarkStep(b *testing.B) {
	e := shipped(b)
	s, _ := atQuestion(b, e, "el", "sex_money")
	in := dialog.Input{Choice: "no"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepTriage answers the last question: the triage conditions run.
func BenchmarkStepTriage(b *testing.B) {
	e := shipped(b)
	_, _, done := screening(b, e, atMenu(b, e, "en"), map[string]string{"promise": "yes", "documents": "yes"})
	last := done[len(done)-1]
	s, in := last.State, dialog.Input{Choice: last.Choice}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepTyped types an answer: folding and label matching run.
func BenchmarkStepTyped(b *testing.B) {
	e := shipped(b)
	s, _ := atQuestion(b, e, "el", "danger")
	in := dialog.Input{Text: "Όχι"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad reads and checks all shipped content: locales and flows.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cat, err := locales.Load(locales.Files)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dialog.Load(flows.Files, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// A button shown with an earlier question is outdated even when the current question has a
// button with the same id.
func TestStepButtonOfAnEarlierQuestion(t *testing.T) {
	e := shipped(t)
	s, outs := atQuestion(t, e, "en", "minor")
	minor := outs[len(outs)-1].Question
	s, outs = steps(t, e, s, dialog.Input{Choice: "no", Question: minor})
	next := outs[len(outs)-1] // the question after minor, whichever it is
	if next.Kind != dialog.Ask || next.Question == minor || !slices.ContainsFunc(next.Choices, func(c dialog.Choice) bool { return c.ID == "yes" }) {
		t.Fatalf("after minor: %v; want another question with a yes", kinds(outs))
	}
	id := nodeID(next.Question)
	got, outs := steps(t, e, s, dialog.Input{Choice: "yes", Question: minor})
	if diff := cmp.Diff([]string{"say:choice_outdated", asked([]dialog.Output{next})}, kinds(outs)); diff != "" || got.Answers[id] != "" || got.Answers["minor"] != "no" {
		t.Errorf("answers %v, outputs (-want +got):\n%s", got.Answers, diff)
	}
	got, _ = steps(t, e, s, dialog.Input{Choice: "yes", Question: next.Question})
	if got.Answers[id] != "yes" {
		t.Errorf("the current question's button: answers %v", got.Answers)
	}
}

func TestStepUrgentOutputs(t *testing.T) {
	e := shipped(t)
	s := atMenu(t, e, "en")
	_, outs := steps(t, e, s, pick("rights")...)
	for _, o := range outs {
		if o.Urgent {
			t.Errorf("information %q is urgent", o.Msg)
		}
	}
	for _, in := range []dialog.Input{{Command: "help"}, {Text: "sos"}} {
		_, outs = steps(t, e, s, in)
		if !outs[0].Urgent {
			t.Errorf("%+v: %q is not urgent", in, outs[0].Msg)
		}
	}
}

// A help word opens /help from any point, before the conversation starts too; "Go back" asks
// the interrupted question again (before the start: the language question).
func TestStepHelpWords(t *testing.T) {
	e := shipped(t)
	atLanguage, _ := steps(t, e, dialog.State{}, dialog.Input{Text: "hi"})
	inScreening := func(lang string) dialog.State {
		s, _ := atQuestion(t, e, lang, "promise")
		return s
	}
	ended, _ := steps(t, e, atMenu(t, e, "en"), dialog.Input{Command: "stop"})
	_, asking := atQuestion(t, e, "en", "promise")
	promise := []string{asked(asking)}
	tests := []struct {
		name string
		s    dialog.State
		text string
		back []string // the outputs after "Go back"
	}{
		{"first message", dialog.State{}, "help", []string{"ask:language_prompt"}},
		{"first message, a language proposed", dialog.State{Lang: "fr"}, "AIDE", []string{"ask:language_prompt"}},
		{"at the language question, English", atLanguage, "Help", []string{"ask:language_prompt"}},
		{"at the language question, Greek", atLanguage, "ΒΟΗΘΕΙΑ", []string{"ask:language_prompt"}},
		{"at the language question, Albanian", atLanguage, "ndihmë", []string{"ask:language_prompt"}},
		{"in the questions, English", inScreening("en"), "I need help.", promise},
		{"in the questions, Greek without accents", inScreening("el"), "θελω βοηθεια", promise},
		{"in the questions, Greeklish", inScreening("el"), "Voithia!", promise},
		{"in the questions, French", inScreening("fr"), "J'ai besoin d'aide", promise},
		{"in the questions, Albanian without ë", inScreening("sq"), "ndihme", promise},
		{"in another language than the conversation's", inScreening("sq"), "help", promise},
		{"after the conversation ended", ended, "help", []string{"ask:language_prompt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			help, outs := steps(t, e, tt.s, dialog.Input{Text: tt.text})
			if diff := cmp.Diff([]string{"say:help_numbers", "ask:help_after"}, kinds(outs)); diff != "" {
				t.Fatalf("outputs (-want +got):\n%s", diff)
			}
			if outs[0].Lang != tt.s.Lang || !outs[0].Urgent {
				t.Errorf("the numbers in %q, urgent %v; want %q (every language if none), urgent", outs[0].Lang, outs[0].Urgent, tt.s.Lang)
			}
			if _, outs := steps(t, e, help, dialog.Input{Choice: "back", Question: "help.after"}); !slices.Equal(kinds(outs), tt.back) {
				t.Errorf("then back: got %v; want %v", kinds(outs), tt.back)
			}
			// The other button deletes the conversation, wherever it was.
			if _, outs := steps(t, e, help, dialog.Input{Choice: "wipe", Question: "help.after"}); outs[len(outs)-1].Kind != dialog.End || !outs[len(outs)-1].Wipe {
				t.Errorf("then wipe: got %v; want the wipe", kinds(outs))
			}
		})
	}
}

// What a help word does not do: outrank the emergency or the duress word, match inside
// another word, or take the place of an answer whose label holds it.
func TestStepHelpWordsGiveWay(t *testing.T) {
	e := shipped(t)
	s, _ := atQuestion(t, e, "en", "promise")
	tests := []struct {
		name string
		s    dialog.State
		text string
		want string // the first output's message
	}{
		{"an emergency phrase that holds it", s, "help me", "emergency_numbers"},
		{"an emergency word beside it", s, "help, danger", "emergency_numbers"},
		{"the duress word beside it", s, "help sunflower", "duress_reply"},
		{"inside another word", s, "helpful", "not_understood"},
		{"the menu's label, English", atMenu(t, e, "en"), "phone numbers for HELP", "help_numbers"},
		{"the menu's label, French", atMenu(t, e, "fr"), "Numéros à appeler pour avoir de l'aide", "help_numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, outs := steps(t, e, tt.s, dialog.Input{Text: tt.text})
			if outs[0].Msg != tt.want {
				t.Errorf("outputs %v; want %s first", kinds(outs), tt.want)
			}
			if tt.want == "help_numbers" && outs[len(outs)-1].Msg != "menu_question" {
				t.Errorf("outputs %v; want the menu's numbers, then the menu", kinds(outs))
			}
		})
	}
}

// After /stop, a command's flow runs in a conversation started afresh: its buttons work.
func TestStepCommandAfterTheEnd(t *testing.T) {
	e := shipped(t)
	ended, _ := steps(t, e, atMenu(t, e, "el"), dialog.Input{Command: "stop"})
	help, _ := steps(t, e, ended, dialog.Input{Command: "help"})
	if _, outs := steps(t, e, help, dialog.Input{Choice: "wipe", Question: "help.after"}); outs[len(outs)-1].Kind != dialog.End || !outs[len(outs)-1].Wipe {
		t.Errorf("/stop, /help, then delete: got %v; want the wipe", kinds(outs))
	}
	lang, _ := steps(t, e, ended, dialog.Input{Command: "language"})
	got, outs := steps(t, e, lang, dialog.Input{Choice: "fr", Question: "language.pick"})
	if diff := cmp.Diff([]string{"language:", "ask:menu_question"}, kinds(outs)); diff != "" || got.Ended {
		t.Errorf("/stop, /language, then fr: ended %v, outputs (-want +got):\n%s", got.Ended, diff)
	}
}

// Typed text is read up to MaxText characters, and folded only as far as locales.MaxFold
// runes of its decomposition (U+FDFA makes 18): a word beyond either changes nothing.
func TestStepReadsMaxText(t *testing.T) {
	e := shipped(t)
	s, _ := atQuestion(t, e, "en", "promise")
	filler := strings.Repeat("ab ", dialog.MaxText/3)
	accented := []rune(strings.Repeat("Δουλεύω πολλές ώρες. ", dialog.MaxText/10))
	for _, tt := range []struct {
		name, text, want string
	}{
		{"a word within", filler[:dialog.MaxText-4] + "sos", "emergency_numbers"},
		{"a word beyond", filler[:dialog.MaxText-3] + "sos", "not_understood"},
		{"accented letters, a word within", string(accented[:dialog.MaxText-4]) + " sos", "emergency_numbers"},
		{"a word after what decomposes beyond the budget", strings.Repeat("\uFDFA", locales.MaxFold/18+1) + " sos", "not_understood"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, outs := steps(t, e, s, dialog.Input{Text: tt.text}); outs[0].Msg != tt.want {
				t.Errorf("outputs %v; want %s first", kinds(outs), tt.want)
			}
		})
	}
}

// BenchmarkStepLongText types a whole message, MaxText characters, at a screening question:
// a plain one, Greek with its accents, and the costliest found. What costs is folding, and a
// character can decompose into many (U+FDFA into 18 runes, four words): Fold reads only as
// far as locales.MaxFold runes of decomposition, so that no message costs much more than a
// plain one (goal: at most twice).
func BenchmarkStepLongText(b *testing.B) {
	e := shipped(b)
	s, _ := atQuestion(b, e, "el", "danger")
	for _, bm := range []struct{ name, text string }{
		{"plain Greek", "Δουλεύω πολλές ώρες κάθε μέρα και δεν μου δίνουν τα χρήματα που μου υποσχέθηκαν. "},
		{"U+FDFA", "\uFDFA"},                   // an Arabic ligature: 18 runes, 4 words
		{"U+3300", "\u3300\u3301\u3302\u3303"}, // squared katakana words: 4-6 runes with marks
		{"U+337F", "\u337F"},                   // a squared era name: 4 CJK ideographs
		{"Hangul", "한국어"},                      // syllables of 2-3 jamo each
		{"U+2474", "\u2474"},                   // parenthesised digits: 3 runes, a word each
	} {
		text := repeatRunes(bm.text, dialog.MaxText)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.Step(s, dialog.Input{Text: text}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatRunes repeats s to n runes.
func repeatRunes(s string, n int) string {
	rs := []rune(s)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[i%len(rs)]
	}
	return string(out)
}

// The numbers asked for before a conversation has started lead back to its beginning, the
// language question, whatever asked for them.
func TestStepNumbersBeforeTheStart(t *testing.T) {
	e := shipped(t)
	for _, tt := range []struct {
		name string
		in   dialog.Input
		back dialog.Input // the button that goes back
	}{
		{"/help", dialog.Input{Command: "help"}, dialog.Input{Choice: "back", Question: "help.after"}},
		{"a help word", dialog.Input{Text: "help"}, dialog.Input{Choice: "back", Question: "help.after"}},
		{"an emergency word", dialog.Input{Text: "sos"}, dialog.Input{Choice: "no", Question: "emergency.emergency_offer"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, outs := steps(t, e, dialog.State{}, tt.in, tt.back)
			if diff := cmp.Diff([]string{"ask:language_prompt"}, kinds(outs)); diff != "" || got.Flow != "welcome" {
				t.Errorf("then back: at %s.%s, outputs (-want +got):\n%s", got.Flow, got.Node, diff)
			}
		})
	}
}
