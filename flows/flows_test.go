package flows_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/flows/transcript"
	"github.com/faros-project/faros/locales"
)

var update = flag.Bool("update", false, "rewrite the transcripts in testdata with what the bot answers now")

func load(t testing.TB) (*dialog.Engine, *locales.Catalog) {
	t.Helper()
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatalf("locales: %v", err)
	}
	e, err := dialog.Load(flows.Files, cat)
	if err != nil {
		t.Fatalf("flows: %v", err)
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
	cat, err := locales.Load(os.DirFS(localesDir))
	if err != nil {
		t.Fatalf("the edited locales: %v", err)
	}
	e, err := dialog.Load(os.DirFS(flowsDir), cat)
	if err != nil {
		t.Fatalf("the edited flows: %v", err)
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
