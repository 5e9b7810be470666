package dialog_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows/transcript"
	"github.com/faros-project/faros/locales"
)

// The tests of Step run on the fixture of helpers_test.go.

func TestStepFirstInputStartsTheEntryFlow(t *testing.T) {
	e := fixture(t)
	s, outs := steps(t, e, dialog.State{}, dialog.Input{Text: "hello"})
	if diff := cmp.Diff([]string{"ask:pick_language"}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	want := []dialog.Choice{{ID: "en", Label: "language_name", Lang: "en"}, {ID: "el", Label: "language_name", Lang: "el"}, {ID: dialog.Leave, Label: "leave"}}
	if outs[0].Lang != "" || !cmp.Equal(outs[0].Choices, want) || outs[0].Question != "language.pick" {
		t.Errorf("language question = %+v; want in every language, every language (each named in itself) and leave now", outs[0])
	}
	if s.Flow != "language" || s.Node != "pick" {
		t.Errorf("waiting at %s.%s; want language.pick", s.Flow, s.Node)
	}
}

func TestStepCommandsInAnyCaseAndWithBotName(t *testing.T) {
	e := fixture(t)
	s := atMenu(t, e, "en")
	for _, text := range []string{"/help", "/HELP", "/help@faros_bot", "/help please"} {
		help, outs := steps(t, e, s, dialog.Input{Text: text})
		if diff := cmp.Diff([]string{"say:help_numbers", "ask:help_after"}, kinds(outs)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
		// "Go back" returns to the question /help interrupted; the other button wipes.
		if _, outs := steps(t, e, help, dialog.Input{Choice: "back"}); !slices.Equal(kinds(outs), []string{"ask:menu"}) {
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
	if diff := cmp.Diff([]string{"say:not_understood", "ask:menu"}, kinds(outs)); diff != "" {
		t.Errorf("/fly (-want +got):\n%s", diff)
	}
}

func TestStepTypedLabelCountsAsTheChoice(t *testing.T) {
	e := fixture(t)
	s, _ := atFixtureQuestion(t, e, "el", "minor")
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
	e := fixture(t)
	s, asking := atFixtureQuestion(t, e, "el", "lies")
	got, outs := steps(t, e, s, dialog.Input{Choice: "check"}) // the menu's
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"say:outdated", asked(asking)}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func TestStepEmergencyWordsFromAnywhere(t *testing.T) {
	e := fixture(t)
	s, asking := atFixtureQuestion(t, e, "en", "lies")
	// Any language's words, in any case and with or without accents, and phrases of words.
	for _, text := range []string{"SOS", "please help me now", "Σώστε με!", "ΚΙΝΔΥΝΕΥΩ", "they will kill me"} {
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
	// Words are matched whole: "helpful", "sosanna" and a phrase cut short are not emergency words.
	for _, text := range []string{"helpful", "sosanna", "they will come"} {
		if _, outs := steps(t, e, s, dialog.Input{Text: text}); outs[0].Msg == "emergency_numbers" {
			t.Errorf("%q opened the emergency flow", text)
		}
	}
}

func TestStepResumesAfterContentChange(t *testing.T) {
	e := fixture(t)
	s := atMenu(t, e, "el")
	_, start := steps(t, e, s, pick("check")...) // the screening from its start
	s.Flow, s.Node = "screen", "removed_question"
	got, outs := steps(t, e, s, dialog.Input{Choice: "yes"})
	if diff := cmp.Diff(append([]string{"say:restarted"}, kinds(start)...), kinds(outs)); diff != "" || start[len(start)-1].Kind != dialog.Ask {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got.Lang != "el" || got.Flow != "screen" || got.Node != "minor" {
		t.Errorf("language %q, at %s.%s; want el kept, at screen.minor", got.Lang, got.Flow, got.Node)
	}
	s.Flow = "removed_flow"
	if _, outs = steps(t, e, s, dialog.Input{Text: "hi"}); !slices.Equal(kinds(outs), []string{"say:restarted", "ask:pick_language"}) {
		t.Errorf("removed flow: outputs %v; want restarted, then the entry", kinds(outs))
	}
}

func TestStepDoesNotChangeTheGivenState(t *testing.T) {
	e := fixture(t)
	s, _ := steps(t, e, atMenu(t, e, "en"), pick("check", "yes", "yes")...) // with answers and a flag
	before := clone(t, s)
	for _, ins := range [][]dialog.Input{
		pick("no", "yes", "yes"), // answers, a flag, the triage, tier 3
		{{Text: "ΟΧΙ"}},          // typed
		{{Text: "/help"}, {Choice: "back"}},
		{{Text: "sunflower"}},
		{{Command: "wipe"}},
	} {
		steps(t, e, s, ins...)
		if diff := cmp.Diff(before, s); diff != "" {
			t.Errorf("%+v: the caller's state changed (-before +after):\n%s", ins, diff)
		}
	}
}

func TestStateRoundTripsThroughJSON(t *testing.T) {
	e := fixture(t)
	// Every field set: language, place, answers, flags, tier and reason, and a question to go
	// back to.
	s, _ := steps(t, e, atMenu(t, e, "el"), append(pick("check", "yes", "yes", "no", "yes", "yes"), dialog.Input{Text: "/language"})...)
	if s.Lang == "" || s.Flow == "" || s.Node == "" || s.Back == "" || len(s.Answers) != 6 || len(s.Flags) != 2 || s.Tier != 3 || s.Reason == "" {
		t.Fatalf("the state %+v lacks a field", s)
	}
	if got := clone(t, s); !reflect.DeepEqual(got, s) {
		t.Errorf("JSON round trip: got %+v; want %+v", got, s)
	}
	// Nothing is written for what is not set: a state saved is as small as it can be.
	if b, _ := json.Marshal(dialog.State{}); string(b) != "{}" {
		t.Errorf("the zero state is %s in JSON; want {}", b)
	}
	// The shipped content's state stays small: TestShippedStateIsSmall (flows).
}

// handoff returns the one Handoff among outs.
func handoff(t *testing.T, outs []dialog.Output) dialog.Output {
	t.Helper()
	i := slices.IndexFunc(outs, func(o dialog.Output) bool { return o.Kind == dialog.Handoff })
	if i < 0 {
		t.Fatalf("no handoff in %v", kinds(outs))
	}
	return outs[i]
}

func TestHandoffCarriesTierReasonAndIndicators(t *testing.T) {
	e := fixture(t)
	names := func(el, en string) map[string]string { return map[string]string{"el": el, "en": en} }

	// lies (class I) and free ("no" counts, class C): tier 2; papers not positive; locked not
	// asked. Then consent and the code word: the handoff of tier 1 takes the tier reached.
	s, _ := steps(t, e, atMenu(t, e, "en"), pick("check", "no", "yes", "no", "no", "yes")...)
	final, outs := steps(t, e, s, dialog.Input{Text: "blue heron"})
	want := dialog.Output{Kind: dialog.Handoff, Tier: 2, Reason: "likely", Indicators: []string{"lies", "held"},
		Answers: []dialog.Answer{
			{Question: "minor", Msg: "q_minor", Brief: "ανήλικος", Choice: "no"},
			{Question: "lies", Msg: "q_lies", Brief: "του είπαν ψέματα", Choice: "yes", Code: "lies", Kind: "other", Names: names("ψέματα", "lies"), Positive: true},
			{Question: "free", Msg: "q_free", Brief: "δεν μπορεί να φύγει", Choice: "no", Code: "held", Kind: "labour", Names: names("κρατείται", "held"), Positive: true},
			{Question: "papers", Msg: "q_papers", Brief: "κρατούν τα χαρτιά", Choice: "no", Code: "papers", Kind: "labour"},
		},
		Secrets: map[string]string{"codeword": "blue heron"}}
	h := handoff(t, outs)
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("handoff (-want +got):\n%s", diff)
	}
	if _, kept := final.Answers["codeword"]; kept {
		t.Error("the state keeps the code word")
	}
	// The names handed out are copies: changing them changes no later handoff.
	h.Answers[1].Names["el"] = "changed"
	if _, outs := steps(t, e, s, dialog.Input{Text: "blue heron"}); handoff(t, outs).Answers[1].Names["el"] != "ψέματα" {
		t.Error("changing a handoff's names changed the engine's")
	}

	// A choice that sets a flag is a positive answer, without an indicator; a follow-up
	// question asked is in the list, in file order; locked makes tier 3.
	s, _ = steps(t, e, atMenu(t, e, "el"), pick("check", "yes", "no", "yes", "yes", "yes", "yes")...)
	_, outs = steps(t, e, s, dialog.Input{Text: "x"})
	want = dialog.Output{Kind: dialog.Handoff, Tier: 3, Reason: "urgent", Indicators: []string{"papers"},
		Answers: []dialog.Answer{
			{Question: "minor", Msg: "q_minor", Brief: "ανήλικος", Choice: "yes", Positive: true},
			{Question: "lies", Msg: "q_lies", Brief: "του είπαν ψέματα", Choice: "no", Code: "lies", Kind: "other"},
			{Question: "free", Msg: "q_free", Brief: "δεν μπορεί να φύγει", Choice: "yes", Code: "held", Kind: "labour"},
			{Question: "papers", Msg: "q_papers", Brief: "κρατούν τα χαρτιά", Choice: "yes", Code: "papers", Kind: "labour", Names: names("χαρτιά", "papers"), Positive: true},
			{Question: "locked", Msg: "q_locked", Brief: "κλειδωμένος", Choice: "yes", Positive: true},
		},
		Secrets: map[string]string{"codeword": "x"}}
	if diff := cmp.Diff(want, handoff(t, outs)); diff != "" {
		t.Errorf("handoff (-want +got):\n%s", diff)
	}

	// Straight to a person: no screening answers, the handoff's own tier.
	s, _ = steps(t, e, atMenu(t, e, "en"), pick("person", "yes")...)
	_, outs = steps(t, e, s, dialog.Input{Text: "owl"})
	want = dialog.Output{Kind: dialog.Handoff, Tier: 1, Reason: "asked", Secrets: map[string]string{"codeword": "owl"}}
	if diff := cmp.Diff(want, handoff(t, outs)); diff != "" {
		t.Errorf("handoff (-want +got):\n%s", diff)
	}
}

// The duress word gets an innocent answer, raises the tier, leaves the question waiting, and
// alerts the operators only if the person agreed to talk to one.
func TestDuress(t *testing.T) {
	e := fixture(t)
	s, _ := atFixtureQuestion(t, e, "el", "lies")
	got, outs := steps(t, e, s, dialog.Input{Text: "Ηλιοτρόπιο"})
	if diff := cmp.Diff([]string{"say:duress_reply"}, kinds(outs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got.Tier != 3 || got.Reason != "duress" || got.Node != s.Node || got.Flow != s.Flow {
		t.Errorf("after the duress word: tier %d (%s) at %s.%s; want 3 (duress) at %s.%s", got.Tier, got.Reason, got.Flow, got.Node, s.Flow, s.Node)
	}
	if next, _ := steps(t, e, got, dialog.Input{Choice: "no"}); next.Answers["lies"] != "no" {
		t.Error("the waiting question no longer takes its answer")
	}
	// Any language's word, in the other language's conversation.
	if _, outs := steps(t, e, s, dialog.Input{Text: "SUNFLOWER"}); !slices.Equal(kinds(outs), []string{"say:duress_reply"}) {
		t.Errorf("the English word in Greek: %v", kinds(outs))
	}
	consented, _ := steps(t, e, atMenu(t, e, "en"), append(pick("person", "yes"), dialog.Input{Text: "owl"})...)
	if _, outs := steps(t, e, consented, dialog.Input{Text: "sunflower"}); len(outs) != 2 || outs[0].Kind != dialog.Handoff || outs[0].Tier != 3 || outs[0].Reason != "duress" || outs[1].Msg != "duress_reply" {
		t.Errorf("the duress word after consent: %v; want an urgent handoff, then the innocent answer", kinds(outs))
	}
}

// Every question has the leave-now button; pressing or typing it is /stop.
func TestLeaveNow(t *testing.T) {
	e := fixture(t)
	s, outs := steps(t, e, atMenu(t, e, "en"), pick("check")...)
	if last := outs[len(outs)-1].Choices; last[len(last)-1] != (dialog.Choice{ID: dialog.Leave, Label: "leave"}) {
		t.Fatalf("the last button is %+v; want leave now", last[len(last)-1])
	}
	for _, in := range []dialog.Input{{Choice: dialog.Leave, Question: "screen.minor"}, {Choice: dialog.Leave, Question: "old.question"}, {Choice: dialog.Leave}, {Text: "leave NOW"}} {
		got, outs := steps(t, e, s, in)
		if diff := cmp.Diff([]string{"say:goodbye", "end:"}, kinds(outs)); diff != "" || !got.Ended || got.Lang != "en" {
			t.Errorf("%+v: ended %v, language %q, outputs (-want +got):\n%s", in, got.Ended, got.Lang, diff)
		}
	}
	// Typed in another language than the conversation's, leave now still leaves (other labels
	// count only in the conversation's language).
	s, _ = steps(t, e, atMenu(t, e, "el"), pick("check")...)
	if got, outs := steps(t, e, s, dialog.Input{Text: "Leave now"}); !got.Ended || !slices.Contains(kinds(outs), "end:") {
		t.Errorf("\"Leave now\" typed in a Greek conversation: ended %v, outputs %v; want it to leave", got.Ended, kinds(outs))
	}
}

func TestWipeForgetsEverything(t *testing.T) {
	e := fixture(t)
	s, _ := steps(t, e, atMenu(t, e, "en"), pick("check", "yes", "yes")...)
	for _, in := range []dialog.Input{{Text: "/wipe"}, {Command: "wipe"}} {
		got, outs := steps(t, e, s, in)
		if last := outs[len(outs)-1]; last.Kind != dialog.End || !last.Wipe {
			t.Errorf("%+v: last output %+v; want End with Wipe", in, last)
		}
		if !reflect.DeepEqual(got, dialog.State{Ended: true}) {
			t.Errorf("%+v: state after the wipe = %+v; want nothing but Ended", in, got)
		}
	}
}

// FuzzStep feeds any sequence of inputs (one a line, "[id]" a button, as in a transcript) to
// the fixture, seeded with conversations through each of its flows. Whatever comes in, Step
// must not fail, must answer every input, and must leave a state that survives JSON and has a
// question waiting, unless the conversation ended, or has not started, or the step ended
// with "end: wait" (the duress word: the question still waits, asked again by no output).
// FuzzShippedConversations (flows) does the same on the shipped content.
func FuzzStep(f *testing.F) {
	for _, seed := range []string{
		"/start\n[en]\n[check]\n[no]\n[yes]\n[no]\n[no]\n[yes]\nblue heron\n[numbers]\n/stop",
		"hi\n[el]\n[check]\nναι\nΝΑΙ\nοχι\n[yes]\n[yes]\n[yes]\nκώδικας\nηλιοτρόπιο\n/wipe",
		"βοήθεια\n[back]\n[el]\n[info]\nSOS\n[now]\n[no]\n[person]\n[no]",
		"sunflower\n/language\n[en]\n[stop]\nhelp\n[wipe]\n[check]\n/help@faros_bot\n[stop]\nleave now",
		"\n[]\n[en]\n[numbers]\nNumbers for help\n/fly\nthey will kill me\n[no]\n[check]\n[yes]",
	} {
		f.Add(seed)
	}
	e := fixture(f)
	f.Fuzz(func(t *testing.T, script string) {
		var s dialog.State
		for i, line := range strings.Split(script, "\n") {
			if i == 200 {
				break
			}
			next, outs, err := e.Step(s, transcript.Input(line))
			if err != nil {
				t.Fatalf("input %d %q: %v", i, line, err)
			}
			if len(outs) == 0 {
				t.Fatalf("input %d %q got no answer", i, line)
			}
			waits := next.Node == s.Node && next.Flow == s.Flow && e.Signals(line).Duress
			if !next.Ended && next.Node != "" && outs[len(outs)-1].Kind != dialog.Ask && !waits {
				t.Fatalf("input %d %q: state %+v, last output %v; want a question asked", i, line, next, outs[len(outs)-1].Kind)
			}
			if next.Node == "" && !next.Ended && (s.Node != "" || s.Ended) && !waits {
				t.Fatalf("input %d %q: state %+v; want a question waiting", i, line, next)
			}
			if got := clone(t, next); !reflect.DeepEqual(got, next) {
				t.Fatalf("input %d: state does not survive JSON: %+v", i, next)
			}
			s = next
		}
	})
}

// A button shown with an earlier question is outdated even when the current question has a
// button with the same id.
func TestStepButtonOfAnEarlierQuestion(t *testing.T) {
	e := fixture(t)
	s, _ := atFixtureQuestion(t, e, "en", "minor")
	s, outs := steps(t, e, s, dialog.Input{Choice: "no", Question: "screen.minor"})
	if asked(outs) != "ask:q_lies" {
		t.Fatalf("after minor: %v; want lies", kinds(outs))
	}
	got, outs := steps(t, e, s, dialog.Input{Choice: "yes", Question: "screen.minor"})
	if diff := cmp.Diff([]string{"say:outdated", "ask:q_lies"}, kinds(outs)); diff != "" || got.Answers["lies"] != "" || got.Answers["minor"] != "no" {
		t.Errorf("answers %v, outputs (-want +got):\n%s", got.Answers, diff)
	}
	got, _ = steps(t, e, s, dialog.Input{Choice: "yes", Question: "screen.lies"})
	if got.Answers["lies"] != "yes" {
		t.Errorf("the current question's button: answers %v", got.Answers)
	}
}

// The emergency and help flows are urgent, and so is everything once the tier is 3; the
// rest is not.
func TestStepUrgentOutputs(t *testing.T) {
	e := fixture(t)
	s := atMenu(t, e, "en")
	for _, in := range []dialog.Input{{Choice: "info"}, {Choice: "numbers"}, {Choice: "check"}} {
		_, outs := steps(t, e, s, in)
		for _, o := range outs {
			if o.Urgent {
				t.Errorf("%+v: %q is urgent", in, o.Msg)
			}
		}
	}
	for _, in := range []dialog.Input{{Command: "help"}, {Text: "help"}, {Text: "sos"}} {
		_, outs := steps(t, e, s, in)
		for _, o := range outs {
			if !o.Urgent {
				t.Errorf("%+v: %q is not urgent", in, o.Msg)
			}
		}
	}
	watched, _ := atFixtureQuestion(t, e, "en", "lies")
	watched, _ = steps(t, e, watched, dialog.Input{Text: "sunflower"})
	if _, outs := steps(t, e, watched, dialog.Input{Choice: "no"}); !outs[0].Urgent {
		t.Errorf("at tier 3: %v is not urgent", kinds(outs))
	}
}

// A help word opens /help from any point, before the conversation starts too; "Go back" asks
// the interrupted question again (before the start: the language question).
func TestStepHelpWords(t *testing.T) {
	e := fixture(t)
	atLanguage, _ := steps(t, e, dialog.State{}, dialog.Input{Text: "hi"})
	inScreening := func(lang string) dialog.State {
		s, _ := atFixtureQuestion(t, e, lang, "lies")
		return s
	}
	ended, _ := steps(t, e, atMenu(t, e, "en"), dialog.Input{Command: "stop"})
	lies := []string{"ask:q_lies"}
	tests := []struct {
		name string
		s    dialog.State
		text string
		back []string // the outputs after "Go back"
	}{
		{"first message", dialog.State{}, "help", []string{"ask:pick_language"}},
		{"first message, a language proposed", dialog.State{Lang: "el"}, "ΒΟΗΘΕΙΑ", []string{"ask:pick_language"}},
		{"at the language question, English", atLanguage, "Help", []string{"ask:pick_language"}},
		{"at the language question, Greek", atLanguage, "βοηθεια", []string{"ask:pick_language"}},
		{"at the language question, Greeklish", atLanguage, "VOITHIA", []string{"ask:pick_language"}},
		{"in the questions, English", inScreening("en"), "I need help.", lies},
		{"in the questions, Greek without accents", inScreening("el"), "θελω βοηθεια", lies},
		{"in the questions, Greeklish", inScreening("el"), "Voithia!", lies},
		{"in another language than the conversation's", inScreening("en"), "Βοήθεια", lies},
		{"after the conversation ended", ended, "help", []string{"ask:pick_language"}},
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
	e := fixture(t)
	s, _ := atFixtureQuestion(t, e, "en", "lies")
	tests := []struct {
		name string
		s    dialog.State
		text string
		want string // the first output's message
	}{
		{"an emergency phrase that holds it", s, "help me", "emergency_numbers"},
		{"an emergency word beside it", s, "help, sos", "emergency_numbers"},
		{"the duress word beside it", s, "help sunflower", "duress_reply"},
		{"inside another word", s, "helpful", "not_understood"},
		{"the menu's label, English", atMenu(t, e, "en"), "numbers for HELP", "help_numbers"},
		{"the menu's label, Greek without accents", atMenu(t, e, "el"), "Αριθμοι για βοηθεια", "help_numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, outs := steps(t, e, tt.s, dialog.Input{Text: tt.text})
			if outs[0].Msg != tt.want {
				t.Errorf("outputs %v; want %s first", kinds(outs), tt.want)
			}
			if tt.want == "help_numbers" && asked(outs) != "ask:menu" {
				t.Errorf("outputs %v; want the menu's numbers, then the menu", kinds(outs))
			}
		})
	}
}

// After /stop, a command's flow runs in a conversation started afresh: its buttons work.
func TestStepCommandAfterTheEnd(t *testing.T) {
	e := fixture(t)
	ended, _ := steps(t, e, atMenu(t, e, "el"), dialog.Input{Command: "stop"})
	help, _ := steps(t, e, ended, dialog.Input{Command: "help"})
	if _, outs := steps(t, e, help, dialog.Input{Choice: "wipe", Question: "help.after"}); outs[len(outs)-1].Kind != dialog.End || !outs[len(outs)-1].Wipe {
		t.Errorf("/stop, /help, then delete: got %v; want the wipe", kinds(outs))
	}
	lang, _ := steps(t, e, ended, dialog.Input{Command: "language"})
	got, outs := steps(t, e, lang, dialog.Input{Choice: "en", Question: "language.pick"})
	if diff := cmp.Diff([]string{"language:", "ask:menu"}, kinds(outs)); diff != "" || got.Ended || got.Lang != "en" {
		t.Errorf("/stop, /language, then en: ended %v, language %q, outputs (-want +got):\n%s", got.Ended, got.Lang, diff)
	}
}

// Typed text is read up to MaxText characters, and folded only as far as locales.MaxFold
// runes of its decomposition (U+FDFA makes 18): a word beyond either changes nothing.
func TestStepReadsMaxText(t *testing.T) {
	e := fixture(t)
	s, _ := atFixtureQuestion(t, e, "en", "lies")
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

// The numbers asked for before a conversation has started lead back to its beginning, the
// language question, whatever asked for them.
func TestStepNumbersBeforeTheStart(t *testing.T) {
	e := fixture(t)
	for _, tt := range []struct {
		name string
		in   dialog.Input
		back dialog.Input // the button that goes back
	}{
		{"/help", dialog.Input{Command: "help"}, dialog.Input{Choice: "back", Question: "help.after"}},
		{"a help word", dialog.Input{Text: "help"}, dialog.Input{Choice: "back", Question: "help.after"}},
		{"an emergency word", dialog.Input{Text: "sos"}, dialog.Input{Choice: "no", Question: "emergency.offer"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, outs := steps(t, e, dialog.State{}, tt.in, tt.back)
			if diff := cmp.Diff([]string{"ask:pick_language"}, kinds(outs)); diff != "" || got.Flow != "language" {
				t.Errorf("then back: at %s.%s, outputs (-want +got):\n%s", got.Flow, got.Node, diff)
			}
			// Then the language: the conversation goes on from its beginning, to the menu.
			if _, outs := steps(t, e, got, dialog.Input{Choice: "el"}); !slices.Equal(kinds(outs), []string{"language:", "ask:menu"}) {
				t.Errorf("then el: %v; want the menu", kinds(outs))
			}
		})
	}
}

// A /command copied from a right-to-left message brings its direction marks along, before it
// or after it: it is the command all the same.
func TestCommandAfterDirectionMarks(t *testing.T) {
	e := fixture(t)
	for _, text := range []string{"\u200f\u200e/wipe", " \u200e/wipe", "/wipe\u200f", "\u200f/wipe\u200f\u200e", "/wipe\u2069\n", "/WIPE\u200e@faros_bot"} {
		if got := dialog.Command(text); got != "wipe" {
			t.Errorf("Command(%q) = %q; want wipe", text, got)
		}
		_, outs := steps(t, e, atMenu(t, e, "en"), dialog.Input{Text: text})
		if last := outs[len(outs)-1]; last.Kind != dialog.End || !last.Wipe {
			t.Errorf("%q: %v; want the wipe", text, kinds(outs))
		}
	}
}
