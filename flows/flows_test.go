package flows_test

import (
	"cmp"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/flows/transcript"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/locales"
)

var update = flag.Bool("update", false, "rewrite the transcripts in testdata with what the bot answers now")

func load(t testing.TB) (*dialog.Engine, *locales.Catalog) {
	t.Helper()
	e, cat, err := content.Load(content.Built()) // as the service and flowctl load it
	if err != nil {
		t.Fatal(err)
	}
	return e, cat
}

var tierFile = regexp.MustCompile(`^([a-z]+)_tier(\d)`)

// TestTranscripts replays every conversation in testdata; -update rewrites the bot's lines,
// but never those of a transcript whose declaration ("= proves ...") no longer holds or whose
// inputs go out of step with the questions. A file named LANG_tierN... must reach tier N,
// and every language must reach every tier.
func TestTranscripts(t *testing.T) {
	e, cat := load(t)
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	reached := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := transcript.Parse(file, data)
			if err != nil {
				t.Fatal(err)
			}
			r, err := transcript.Replay(e, cat, sc)
			if err != nil {
				t.Fatal(err)
			}
			failures := sc.Check(r)
			for _, f := range failures {
				t.Error(f)
			}
			switch {
			case *update && len(failures) > 0:
				t.Errorf("%s not rewritten: what it declares does not hold", file)
			case *update:
				if err := os.WriteFile(file, sc.Format(r.Got), 0o644); err != nil {
					t.Fatal(err)
				}
			default:
				for _, d := range sc.Diff(r.Got) {
					t.Error(d)
				}
			}
			tier := r.Tier
			if m := tierFile.FindStringSubmatch(filepath.Base(file)); m != nil {
				want, _ := strconv.Atoi(m[2])
				if tier != want {
					t.Errorf("the conversation reached tier %d; want %d (from its name)", tier, want)
				}
				if want == 0 && !strings.Contains(string(data), "! ") && tier == 0 {
					reached[m[1]+"0"] = true
				} else {
					reached[m[1]+m[2]] = tier == want
				}
			}
		})
	}
	for _, lang := range e.Languages() {
		for tier := range 4 {
			if !reached[lang+strconv.Itoa(tier)] {
				t.Errorf("no transcript in %s reaches tier %d (want testdata/%s_tier%d*.txt)", lang, tier, lang, tier)
			}
		}
	}
}

// withAddedQuestion loads a copy of the shipped content with a question added after
// screening's promise, as an editor adds one: its node, with the buttons given, and its
// message in every language.
func withAddedQuestion(t *testing.T, buttons ...string) (*dialog.Engine, *locales.Catalog) {
	t.Helper()
	flowsDir, localesDir := filepath.Join(t.TempDir(), "flows"), filepath.Join(t.TempDir(), "locales")
	if err := os.CopyFS(flowsDir, flows.Files); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(localesDir, locales.Files); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(flowsDir, "screening.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	node := "  added_fee:\n    ask: q_added_fee\n    brief: \"πλήρωσε αμοιβή για τη δουλειά\"\n    indicator: {code: debt_bondage, class: I, weight: 1, positive: \"" + buttons[0] + "\"}\n    choices:\n"
	for _, b := range buttons {
		node += "      - {id: \"" + b + "\", label: choice_" + b + "}\n"
	}
	node += "    next: not_agreed\n\n  not_agreed:\n"
	text := strings.Replace(string(data), "    next: not_agreed\n", "    next: added_fee\n", 1)
	text = strings.Replace(text, "  not_agreed:\n", node, 1)
	if text == string(data) {
		t.Fatal("screening.yaml has no not_agreed to add a question before")
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(localesDir, "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add := "\nq_added_fee: \"Did you pay someone a fee for this job?\"\n"
		for _, b := range buttons {
			if !strings.Contains(string(data), "\nchoice_"+b+":") {
				add += "choice_" + b + ": \"" + b + "\"\n"
			}
		}
		if err := os.WriteFile(f, append(data, add...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, cat, err := content.Load(content.Dirs(flowsDir, localesDir))
	if err != nil {
		t.Fatalf("the edited content: %v", err)
	}
	return e, cat
}

// replayFile replays one transcript of testdata against the content given.
func replayFile(t *testing.T, e *dialog.Engine, cat *locales.Catalog, name string) (*transcript.Script, *transcript.Result) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := transcript.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	r, err := transcript.Replay(e, cat, sc)
	if err != nil {
		t.Fatal(err)
	}
	return sc, r
}

// TestAnAddedQuestionBreaksTheDeclaration adds a question with the usual answers in the
// middle of the screening: the answers of en_tier2.txt shift by one, the handoff is lost, and
// the check names the file, what changed and where the new question needs an answer. (The
// shifted answers also meet, later, a question that does not offer the one given.)
func TestAnAddedQuestionBreaksTheDeclaration(t *testing.T) {
	e, cat := withAddedQuestion(t, "yes", "no", "unsure", "skip")
	sc, r := replayFile(t, e, cat, "en_tier2.txt")
	data, _ := os.ReadFile("testdata/en_tier2.txt")
	failures := sc.Check(r)
	want := regexp.MustCompile(`^en_tier2\.txt: declares tier 2 with a handoff, but the conversation now ends at tier [01] without one: ` +
		`a new question may need an answer here — add a line "> \[no\]" after line (\d+), where the bot now asks q_added_fee \(it offers \[yes\] \[no\] \[unsure\] \[skip\] \[stop\]\)$`)
	at := slices.IndexFunc(failures, want.MatchString)
	if at < 0 {
		t.Fatalf("the check says %q; want a failure matching %s", failures, want)
	}
	// The line named is the last of the turn where the bot now asks the new question: the
	// answer to the promise, and then what the bot showed.
	line, _ := strconv.Atoi(want.FindStringSubmatch(failures[at])[1])
	lines := strings.Split(string(data), "\n")
	if line >= len(lines) || !strings.HasPrefix(lines[line], "> ") || !strings.HasPrefix(lines[line-1], "< [stop]") {
		t.Errorf("line %d is not the end of a turn:\n%s", line, strings.Join(lines[max(0, line-3):min(len(lines), line+2)], "\n"))
	}
	// Answering the new question there keeps the declaration.
	fixed := strings.Join(slices.Insert(lines, line, "> [no]"), "\n")
	sc2, err := transcript.Parse("en_tier2.txt", []byte(fixed))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := transcript.Replay(e, cat, sc2)
	if err != nil {
		t.Fatal(err)
	}
	if f := sc2.Check(r2); len(f) != 0 {
		t.Errorf("with \"> [no]\" after line %d the check still fails: %q", line, f)
	}
}

// TestAnAddedQuestionPutsTheInputsOutOfStep adds a question whose buttons are not yes and
// no: the next input of en_tier2.txt presses a button it does not offer, and the check says
// at which line and which question.
func TestAnAddedQuestionPutsTheInputsOutOfStep(t *testing.T) {
	e, cat := withAddedQuestion(t, "paid", "unpaid")
	sc, r := replayFile(t, e, cat, "en_tier2.txt")
	failures := sc.Check(r)
	want := regexp.MustCompile(`^en_tier2\.txt:\d+: "> \[no\]" presses a button that the question q_added_fee does not offer \(it offers \[paid\] \[unpaid\] \[stop\]\): the inputs are out of step with the questions; a new question may need an answer here — add a line "> \[paid\]" after line \d+, where the bot now asks q_added_fee`)
	if len(failures) == 0 || !want.MatchString(failures[0]) {
		t.Fatalf("the check says %q; want first a failure matching %s", failures, want)
	}
}

// TestDiffReadsAsText: a changed line shows as the text, in any script, not as escapes.
func TestDiffReadsAsText(t *testing.T) {
	d := transcript.LineDiff([]string{"< Καλημέρα", "< [yes] Ναι"}, []string{"< Καλησπέρα", "< [yes] Ναι"})
	if want := "- < Καλημέρα\n+ < Καλησπέρα\n  < [yes] Ναι\n"; d != want {
		t.Errorf("LineDiff = %q; want %q", d, want)
	}
}

// The tests below check the shipped content itself (the engine's behaviour is tested on a
// fixture of its own, in bot/dialog). They find their way by question id, choice id and the
// catalog's languages, never by position: a question that an editor adds, anywhere, is
// answered with an answer that counts for nothing (Engine.Calm), and a language added is
// tested as the others are.

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

// kinds is what outputs do: "say:MSG", "ask:MSG", "handoff:", ...
func kinds(outs []dialog.Output) []string {
	var ks []string
	for _, o := range outs {
		ks = append(ks, o.Kind.String()+":"+o.Msg)
	}
	return ks
}

// nodeID is the node of a question "flow.node".
func nodeID(q string) string { _, node, _ := strings.Cut(q, "."); return node }

// atMenu is a conversation in lang that has passed the welcome (the language, and "safe" to
// the safety question), at the menu.
func atMenu(t testing.TB, e *dialog.Engine, lang string) dialog.State {
	t.Helper()
	s, _ := steps(t, e, dialog.State{}, dialog.Input{Command: "start"}, dialog.Input{Choice: lang}, dialog.Input{Choice: "safe"})
	if s.Node != "menu" {
		t.Fatalf("after the welcome the conversation waits at %s.%s; want menu.menu", s.Flow, s.Node)
	}
	return s
}

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

// screening starts the screening of a conversation in lang and answers every question
// (answers[id] where given, otherwise calmly). It returns the state and outputs after the
// last answer (the result) and the questions answered, in order.
func screening(t testing.TB, e *dialog.Engine, lang string, answers map[string]string) (dialog.State, []dialog.Output, []screenStep) {
	t.Helper()
	s, outs := steps(t, e, atMenu(t, e, lang), dialog.Input{Choice: "check"})
	return walkScreening(t, e, s, outs, answers, "")
}

// firstQuestion is a conversation in lang waiting at the first screening question it is
// asked; outs are the outputs that asked it, the question last.
func firstQuestion(t testing.TB, e *dialog.Engine, lang string) (dialog.State, []dialog.Output) {
	t.Helper()
	s, outs := steps(t, e, atMenu(t, e, lang), dialog.Input{Choice: "check"})
	if q := outs[len(outs)-1]; q.Kind != dialog.Ask || !slices.Contains(e.Screening(), nodeID(q.Question)) {
		t.Fatalf("the screening starts with %v; want a screening question", kinds(outs))
	}
	return s, outs
}

// byID answers the questions the engine asks from outs on, while their node ids are in
// answers, until a handoff; it returns where it stopped.
func byID(t testing.TB, e *dialog.Engine, s dialog.State, outs []dialog.Output, answers map[string]dialog.Input) (dialog.State, []dialog.Output) {
	t.Helper()
	for range 50 {
		q := outs[len(outs)-1]
		in, ok := answers[nodeID(q.Question)]
		if q.Kind != dialog.Ask || !ok {
			return s, outs
		}
		if in.Choice != "" {
			in.Question = q.Question
		}
		var next dialog.State
		next, outs = steps(t, e, s, in)
		if next.Flow == s.Flow && next.Node == s.Node && !next.Ended {
			t.Fatalf("%+v at %s: the question is asked again", in, q.Question)
		}
		s = next
		if slices.ContainsFunc(outs, func(o dialog.Output) bool { return o.Kind == dialog.Handoff }) {
			return s, outs
		}
	}
	t.Fatal("more than 50 questions")
	return s, outs
}

// TestShippedScreeningWalk: in every language, a calm walk answers every screening question it
// meets once, with an answer that is one of its choices and counts for nothing, and ends at
// the result.
func TestShippedScreeningWalk(t *testing.T) {
	e, cat := load(t)
	calm := e.Calm()
	for _, lang := range cat.Languages() {
		s, outs, done := screening(t, e, lang, nil)
		if len(done) < 2 {
			t.Fatalf("%s: %d questions answered", lang, len(done))
		}
		seen := map[string]bool{}
		for _, d := range done {
			if seen[d.Question] {
				t.Errorf("%s: %s asked twice", lang, d.Question)
			}
			seen[d.Question] = true
			q := d.Outs[len(d.Outs)-1]
			if q.Lang != lang || !slices.ContainsFunc(q.Choices, func(c dialog.Choice) bool { return c.ID == calm[q.Question] }) {
				t.Errorf("%s: %s asked in %q, with %v; want %s, with the calm answer %q", lang, q.Question, q.Lang, q.Choices, lang, calm[q.Question])
			}
		}
		if s.Tier != 0 || len(s.Flags) != 0 {
			t.Errorf("%s: calm answers reached tier %d, flags %v; want nothing counted", lang, s.Tier, s.Flags)
		}
		if slices.Contains(e.Screening(), nodeID(outs[len(outs)-1].Question)) {
			t.Errorf("%s: the walk stopped at a screening question: %v", lang, kinds(outs))
		}
	}
}

// TestShippedHandoff: a screening with three positive answers (promise, documents, debt) is
// tier 2, "likely"; after consent the handoff carries that tier, the indicators of the
// positive answers in question order, every screening question asked (and no other) with its
// brief, message, indicator, kind and, when positive, its names for counsellors, and the code
// word, which the state does not keep.
func TestShippedHandoff(t *testing.T) {
	e, cat := load(t)
	positive := []string{"promise", "documents", "debt"}
	for _, lang := range cat.Languages() {
		t.Run(lang, func(t *testing.T) {
			s, outs, done := screening(t, e, lang, map[string]string{"promise": "yes", "documents": "yes", "debt": "yes"})
			if s.Tier != 2 || s.Reason != "likely" {
				t.Errorf("after the screening: tier %d (%s); want 2 (likely)", s.Tier, s.Reason)
			}
			final, outs := byID(t, e, s, outs, map[string]dialog.Input{"offer": {Choice: "yes"}, "agree": {Choice: "yes"}, "scope": {Choice: "ngo"}, "codeword": {Text: "blue heron"}})
			i := slices.IndexFunc(outs, func(o dialog.Output) bool { return o.Kind == dialog.Handoff })
			if i < 0 {
				t.Fatalf("no handoff in %v", kinds(outs))
			}
			h := outs[i]
			if h.Tier != 2 || h.Reason != "likely" || !maps.Equal(h.Secrets, map[string]string{"codeword": "blue heron"}) {
				t.Errorf("handoff tier %d (%s), secrets %v; want 2 (likely), the code word", h.Tier, h.Reason, h.Secrets)
			}
			if _, kept := final.Answers["codeword"]; kept {
				t.Error("the state keeps the code word")
			}
			// Every screening question asked, in the order asked, and no other: the questions
			// that follow only a "yes" are not in it.
			var asked, got, codes []string
			for _, d := range done {
				asked = append(asked, d.Question)
			}
			for _, a := range h.Answers {
				got = append(got, a.Question)
				if a.Positive && a.Code != "" && !slices.Contains(codes, a.Code) {
					codes = append(codes, a.Code)
				}
			}
			if !slices.Equal(asked, got) || len(asked) == len(e.Screening()) {
				t.Errorf("the handoff's answers are to %v; want those asked, %v (of %d screening questions)", got, asked, len(e.Screening()))
			}
			if !slices.Equal(h.Indicators, codes) || len(codes) == 0 {
				t.Errorf("indicators %v; want the codes of the positive answers, %v", h.Indicators, codes)
			}
			briefs := map[string]string{}
			for _, a := range h.Answers {
				if a.Positive != slices.Contains(positive, a.Question) {
					t.Errorf("%s (%s): positive %v", a.Question, a.Choice, a.Positive)
				}
				if a.Msg != "q_"+a.Question { // the shipped content names each question's message so
					t.Errorf("%s: message %q", a.Question, a.Msg)
				}
				if a.Brief == "" || briefs[a.Brief] != "" {
					t.Errorf("%s: brief %q (also %q's)", a.Question, a.Brief, briefs[a.Brief])
				}
				briefs[a.Brief] = a.Question
				if a.Code == "" {
					continue
				}
				if !slices.Contains([]string{"labour", "sexual", "other"}, a.Kind) {
					t.Errorf("%s (%s): kind %q", a.Question, a.Code, a.Kind)
				}
				if a.Positive != (a.Names["el"] != "" && a.Names["en"] != "") || (!a.Positive && a.Names != nil) {
					t.Errorf("%s (positive %v): names %v; want el and en for a positive answer only", a.Question, a.Positive, a.Names)
				}
			}
		})
	}
}

// TestShippedStateIsSmall: a conversation's state, saved as JSON after a whole screening
// (answered calmly: every question asked; or "yes" to all: flags set, the screening cut
// short), survives the round trip and stays small.
func TestShippedStateIsSmall(t *testing.T) {
	e, cat := load(t)
	yes := map[string]string{}
	for _, q := range e.Screening() {
		yes[q] = "yes"
	}
	for _, lang := range cat.Languages() {
		for _, answers := range []map[string]string{nil, yes} {
			_, _, done := screening(t, e, lang, answers)
			last := done[len(done)-1]
			s, _ := steps(t, e, last.State, dialog.Input{Choice: last.Choice})
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back dialog.State
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
				t.Errorf("%s: JSON round trip: got %+v, %v; want %+v", lang, back, err, s)
			}
			// About 20 bytes an answer ("promise":"yes",), a few flags, place and tier.
			if limit := 200 + 30*len(s.Answers); len(b) > limit || (answers != nil && len(s.Flags) == 0) {
				t.Errorf("%s: the state of %d answers, %d flags takes %d bytes of JSON; want at most %d", lang, len(s.Answers), len(s.Flags), len(b), limit)
			}
		}
	}
}

// keywords are the words of a keywords message in lang, as the editors wrote them.
func keywords(t *testing.T, cat *locales.Catalog, lang, id string) []string {
	t.Helper()
	text, ok := cat.Text(lang, id)
	if !ok {
		t.Fatalf("%s has no %s", lang, id)
	}
	var words []string
	for _, k := range strings.Split(text, ",") {
		if k = strings.TrimSpace(k); k != "" {
			words = append(words, k)
		}
	}
	return words
}

// TestShippedTriggerWords: every help, emergency and duress word of every language is found
// as written, in capitals and in a sentence, and lets its message through the limits.
func TestShippedTriggerWords(t *testing.T) {
	e, cat := load(t)
	for _, lang := range cat.Languages() {
		for _, kw := range []struct {
			id    string
			want  func(dialog.Signals) bool
			vital dialog.Vital
		}{
			{"keywords_help", func(s dialog.Signals) bool { return s.Help }, dialog.AsksForHelp},
			{"keywords_emergency", func(s dialog.Signals) bool { return s.Emergency }, dialog.AsksForHelp},
			{"keywords_duress", func(s dialog.Signals) bool { return s.Duress && !s.Help && !s.Emergency }, dialog.Watched},
		} {
			for _, word := range keywords(t, cat, lang, kw.id) {
				for _, text := range []string{word, strings.ToUpper(word), "well, " + word + "!"} {
					if got := e.Signals(text); !kw.want(got) {
						t.Errorf("%s %s: Signals(%q) = %+v", lang, kw.id, text, got)
					}
					if got := e.Vital(dialog.Input{Text: text}); got != kw.vital {
						t.Errorf("%s %s: Vital(%q) = %v; want %v", lang, kw.id, text, got, kw.vital)
					}
				}
			}
		}
	}
}

// TestShippedSpellings: the spellings docs/EDITING.md and the editors promise, by language (a
// language no longer shipped is skipped): accents and capitals ignored, Greeklish, the help
// word inside an emergency phrase, phrases matched whole.
func TestShippedSpellings(t *testing.T) {
	e, cat := load(t)
	help, emergency, duress := dialog.Signals{Help: true}, dialog.Signals{Emergency: true}, dialog.Signals{Duress: true}
	both := dialog.Signals{Help: true, Emergency: true}
	for _, tt := range []struct {
		langs []string
		text  string
		want  dialog.Signals
	}{
		{[]string{"en"}, "HELP", help},
		{[]string{"en"}, "I need help.", help},
		{[]string{"en"}, "helpful", dialog.Signals{}},
		{[]string{"en"}, "not sure", dialog.Signals{}},
		{[]string{"en"}, "help me", both},
		{[]string{"en"}, "please help me now", both},
		{[]string{"en"}, "SOS", emergency},
		{[]string{"en"}, "they will kill me", emergency},
		{[]string{"en"}, "please, they will kill me", emergency},
		{[]string{"en"}, "they will", dialog.Signals{}},
		{[]string{"en"}, "dangerous work", dialog.Signals{}},
		{[]string{"en"}, "Sunflower", duress},
		{[]string{"el"}, "Βοήθεια!", help},
		{[]string{"el"}, "ΒΟΗΘΕΙΑ", help},
		{[]string{"el"}, "θελω βοηθεια", help},
		{[]string{"el"}, "Voithia!", help},
		{[]string{"el"}, "voh8eia", help},
		{[]string{"el"}, "Σώστε με!", emergency},
		{[]string{"el"}, "ΚΙΝΔΥΝΕΥΩ", emergency},
		{[]string{"el"}, "Ηλιοτρόπιο", duress},
		{[]string{"fr"}, "AIDE", help},
		{[]string{"fr"}, "j'ai besoin d'aide svp", help},
		{[]string{"fr"}, "à l'aide", both},
		{[]string{"fr"}, "au secours", emergency},
		{[]string{"fr"}, "tournesol", duress},
		{[]string{"sq"}, "NDIHMË", help},
		{[]string{"sq"}, "ndihme", help},
		{[]string{"sq"}, "jam në rrezik", emergency},
		{[]string{"en", "el"}, "help sos ηλιοτρόπιο", dialog.Signals{Help: true, Emergency: true, Duress: true}},
	} {
		if !slices.ContainsFunc(tt.langs, func(l string) bool { return !slices.Contains(cat.Languages(), l) }) {
			if got := e.Signals(tt.text); got != tt.want {
				t.Errorf("%v: Signals(%q) = %+v; want %+v", tt.langs, tt.text, got, tt.want)
			}
		}
	}
}

// TestShippedTypedLabels: in every language, at every question of the welcome, the menu and a
// calm screening, typing a button's label (in capitals) does what pressing it does, the leave
// button's too; a label that holds a help word ("Phone numbers for help") is its answer, not
// /help.
func TestShippedTypedLabels(t *testing.T) {
	e, cat := load(t)
	for _, lang := range cat.Languages() {
		var questions []dialog.State // waiting at each question
		var asks []dialog.Output
		s, outs := steps(t, e, dialog.State{}, dialog.Input{Command: "start"})
		questions, asks = append(questions, s), append(asks, outs[len(outs)-1])
		for _, in := range []dialog.Input{{Choice: lang}, {Choice: "safe"}} {
			s, outs = steps(t, e, s, in)
			questions, asks = append(questions, s), append(asks, outs[len(outs)-1])
		}
		_, _, done := screening(t, e, lang, nil)
		for _, d := range done {
			questions, asks = append(questions, d.State), append(asks, d.Outs[len(d.Outs)-1])
		}
		for i, q := range asks {
			for _, c := range q.Choices {
				label, _ := cat.Text(cmp.Or(c.Lang, q.Lang, lang), c.Label) // the language question speaks every language
				typed := strings.ToUpper(label)
				gotS, gotOuts := steps(t, e, questions[i], dialog.Input{Text: typed})
				wantS, wantOuts := steps(t, e, questions[i], dialog.Input{Choice: c.ID, Question: q.Question})
				if !reflect.DeepEqual(gotS, wantS) || !slices.Equal(kinds(gotOuts), kinds(wantOuts)) {
					t.Errorf("%s, %s: typing %q gives %v; pressing [%s] gives %v", lang, q.Question, typed, kinds(gotOuts), c.ID, kinds(wantOuts))
				}
				if c.ID == dialog.Leave && e.Vital(dialog.Input{Text: typed}) != dialog.MustPass {
					t.Errorf("%s: the leave label %q typed does not pass the limits", lang, typed)
				}
			}
		}
	}
}

// TestShippedWaysOutPass: every button of /help and of the emergency flow passes the limits: a
// button that ends the conversation must pass, the others ask for help.
func TestShippedWaysOutPass(t *testing.T) {
	e, cat := load(t)
	lang := cat.Languages()[0]
	s, _ := firstQuestion(t, e, lang)
	for _, in := range []dialog.Input{{Command: "help"}, {Text: keywords(t, cat, lang, "keywords_emergency")[0]}} {
		at, outs := steps(t, e, s, in)
		q := outs[len(outs)-1]
		if q.Kind != dialog.Ask || len(q.Choices) < 2 {
			t.Fatalf("%+v: %v; want a question", in, kinds(outs))
		}
		for _, c := range q.Choices {
			press := dialog.Input{Choice: c.ID, Question: q.Question}
			_, after := steps(t, e, at, press)
			want := dialog.AsksForHelp
			if after[len(after)-1].Kind == dialog.End {
				want = dialog.MustPass
			}
			if got := e.Vital(press); got != want {
				t.Errorf("%+v, then [%s]: Vital %v; want %v (it does %v)", in, c.ID, got, want, kinds(after))
			}
		}
	}
}

// TestShippedHelp: in every language, /help or a help word at a question shows the numbers,
// urgently, in the conversation's language; "back" asks the question again, "wipe" deletes
// the conversation.
func TestShippedHelp(t *testing.T) {
	e, cat := load(t)
	for _, lang := range cat.Languages() {
		s, asking := firstQuestion(t, e, lang)
		for _, in := range []dialog.Input{{Command: "help"}, {Text: "/HELP@faros_bot"}, {Text: keywords(t, cat, lang, "keywords_help")[0]}} {
			help, outs := steps(t, e, s, in)
			if !outs[0].Urgent || outs[0].Lang != lang || outs[len(outs)-1].Kind != dialog.Ask {
				t.Errorf("%s %+v: %+v; want the numbers, urgent, in %s, then a question", lang, in, outs[0], lang)
			}
			if _, outs := steps(t, e, help, dialog.Input{Choice: "back"}); !slices.Equal(kinds(outs), kinds(asking[len(asking)-1:])) {
				t.Errorf("%s %+v, then back: %v; want the question again", lang, in, kinds(outs))
			}
			if got, outs := steps(t, e, help, dialog.Input{Choice: "wipe"}); outs[len(outs)-1].Kind != dialog.End || !outs[len(outs)-1].Wipe || !reflect.DeepEqual(got, dialog.State{Ended: true}) {
				t.Errorf("%s %+v, then wipe: %v; want the wipe", lang, in, kinds(outs))
			}
		}
	}
}

// TestShippedEmergency: in every language, every language's first emergency word at a
// question shows the numbers first, urgently, and raises nothing until the person asks for a
// counsellor "now" (tier 3, emergency); "no" asks the question again.
func TestShippedEmergency(t *testing.T) {
	e, cat := load(t)
	for _, lang := range cat.Languages() {
		s, asking := firstQuestion(t, e, lang)
		for _, other := range cat.Languages() {
			word := keywords(t, cat, other, "keywords_emergency")[0]
			got, outs := steps(t, e, s, dialog.Input{Text: word})
			if outs[0].Msg != "emergency_numbers" || !outs[0].Urgent || got.Tier != 0 {
				t.Errorf("%s, %q: %v, tier %d; want the emergency numbers first, urgent, tier 0", lang, word, kinds(outs), got.Tier)
			}
			if now, _ := steps(t, e, got, dialog.Input{Choice: "now"}); now.Tier != 3 || now.Reason != "emergency" {
				t.Errorf("%s, %q, then now: tier %d (%s); want 3 (emergency)", lang, word, now.Tier, now.Reason)
			}
			if _, outs := steps(t, e, got, dialog.Input{Choice: "no"}); !slices.Equal(kinds(outs), kinds(asking[len(asking)-1:])) {
				t.Errorf("%s, %q, then no: %v; want the question again", lang, word, kinds(outs))
			}
		}
	}
}

// TestShippedDuress (flows/duress.yaml): in every language, the duress word of every language
// gets an innocent answer and nothing else, raises the conversation to tier 3 and leaves the
// question waiting; once the person agreed to talk to a counsellor, it also hands off, urgently.
func TestShippedDuress(t *testing.T) {
	e, cat := load(t)
	for _, lang := range cat.Languages() {
		s, _ := firstQuestion(t, e, lang)
		toConsent, outs := steps(t, e, atMenu(t, e, lang), dialog.Input{Choice: "person"})
		consented, _ := byID(t, e, toConsent, outs, map[string]dialog.Input{"agree": {Choice: "yes"}, "scope": {Choice: "ekka"}, "codeword": {Text: "heron"}})
		if consented.Answers["agree"] != "yes" {
			t.Fatalf("%s: the way to a counsellor ended at %s.%s without agreeing", lang, consented.Flow, consented.Node)
		}
		for _, other := range cat.Languages() {
			word := keywords(t, cat, other, "keywords_duress")[0]
			got, outs := steps(t, e, s, dialog.Input{Text: word})
			if len(outs) != 1 || outs[0].Kind != dialog.Say || got.Tier != 3 || got.Reason != "duress" || got.Flow != s.Flow || got.Node != s.Node {
				t.Errorf("%s, %q: %v, tier %d (%s), at %s.%s; want one innocent line, tier 3 (duress), the question waiting", lang, word, kinds(outs), got.Tier, got.Reason, got.Flow, got.Node)
			}
			if _, outs := steps(t, e, consented, dialog.Input{Text: word}); len(outs) != 2 || outs[0].Kind != dialog.Handoff || outs[0].Tier != 3 || outs[0].Reason != "duress" || outs[1].Kind != dialog.Say {
				t.Errorf("%s, %q after consent: %v; want an urgent handoff, then the innocent line", lang, word, kinds(outs))
			}
		}
	}
}

// FuzzShippedConversations feeds any sequence of inputs to the shipped flows, seeded with the
// person's side of every transcript and with the seeds of the engine's FuzzStep. Whatever
// comes in, Step must not fail, must answer every input, and must leave a state that survives
// JSON and has a question waiting, unless the conversation ended, or has not started, or the
// duress word left the question waiting without asking it again.
func FuzzShippedConversations(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
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
	seeds, _ := filepath.Glob("../bot/dialog/testdata/fuzz/FuzzStep/*")
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		// "go test fuzz v1", then string("...").
		_, value, _ := strings.Cut(string(data), "\n")
		value = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(value), "string("), ")")
		s, err := strconv.Unquote(value)
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		f.Add(s)
	}
	e, _ := load(f)
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
			b, err := json.Marshal(next)
			var back dialog.State
			if err != nil || json.Unmarshal(b, &back) != nil || !reflect.DeepEqual(back, next) {
				t.Fatalf("input %d: state does not survive JSON: %+v", i, next)
			}
			s = next
		}
	})
}
