package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// The end-to-end tests walk the screening as a person does: they read the question each
// message asks from its buttons ("flow.node/choice") and answer by the question's id, so that
// a question or a language an editor adds needs no change here.

// screenContent is what the tests know of the content a Faros runs.
type screenContent struct {
	*bot.Content
	calm map[string]string // "flow.node" → an answer that counts for nothing
}

var (
	shippedOnce sync.Once
	shippedSC   *screenContent
	shippedErr  error
)

// shippedScreen is the embedded content, as Faros runs without FAROS_FLOWS_DIR.
func shippedScreen(t testing.TB) *screenContent {
	t.Helper()
	shippedOnce.Do(func() { shippedSC, shippedErr = loadScreen(flows.Files, locales.Files) })
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedSC
}

func loadScreen(flowsFS, localesFS fs.FS) (*screenContent, error) {
	e, cat, err := content.Load(content.Source{Flows: flowsFS, Locales: localesFS, FlowsDir: "flows", LocalesDir: "locales"})
	if err != nil {
		return nil, err
	}
	return &screenContent{Content: &bot.Content{Engine: e, Catalog: cat}, calm: e.Calm()}, nil
}

// isScreening tells whether question ("flow.node") is a screening question.
func (sc *screenContent) isScreening(question string) bool {
	_, node, ok := strings.Cut(question, ".")
	return ok && slices.Contains(sc.Engine.Screening(), node)
}

// answer picks the answer to a screening question: answers[node] where given, otherwise calm.
func (sc *screenContent) answer(question string, answers map[string]string) string {
	_, node, _ := strings.Cut(question, ".")
	if a, ok := answers[node]; ok {
		return a
	}
	return sc.calm[question]
}

// asks lists the screening questions, as the engine asks them in lang, when every question
// is answered calmly.
func (sc *screenContent) asks(t testing.TB, lang string) []dialog.Output {
	t.Helper()
	var s dialog.State
	var outs, asks []dialog.Output
	var err error
	for _, in := range []dialog.Input{{Command: "start"}, {Choice: lang}, {Choice: "safe"}, {Choice: "check"}} {
		if s, outs, err = sc.Engine.Step(s, in); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		last := outs[len(outs)-1]
		if last.Kind != dialog.Ask || !sc.isScreening(last.Question) {
			return asks
		}
		asks = append(asks, last)
		if s, outs, err = sc.Engine.Step(s, dialog.Input{Choice: sc.calm[last.Question], Question: last.Question}); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the screening asks more than 200 questions")
	return nil
}

// text is how a person reads an engine's output.
func (sc *screenContent) text(o dialog.Output) string {
	text, _ := sc.Catalog.Show(o)
	return text
}

// likelyLine is the first line of the tier 2 result in lang: what a person reads at the end of
// a screening that makes tier 2.
func (sc *screenContent) likelyLine(lang string) string {
	line, _, _ := strings.Cut(sc.Catalog.Render(lang, "result_likely", nil), "\n")
	return line
}

// question is the question ("flow.node") the chat's last message asks: the part of its
// buttons' data before the slash; "" when it has no buttons.
func (c *tgChat) question() string {
	for _, data := range c.buttons {
		if q, _, ok := strings.Cut(data, "/"); ok {
			return q
		}
	}
	return ""
}

// content is what the chat's Faros runs: the shipped content unless the test set another.
func (c *tgChat) content() *screenContent {
	if c.sc != nil {
		return c.sc
	}
	return shippedScreen(c.t)
}

// answer answers every screening question from the one the last message asks on:
// answers[node] where given, otherwise calmly. It returns the text read after the last.
func (c *tgChat) answer(answers map[string]string) string {
	c.t.Helper()
	sc := c.content()
	text := c.lastText
	for range 200 {
		q := c.question()
		if !sc.isScreening(q) {
			return text
		}
		c.asked = append(c.asked, q)
		text = c.press(sc.answer(q, answers))
	}
	c.t.Fatalf("chat %d: the screening asks more than 200 questions", c.id)
	return ""
}

// addedBrief is the counsellors' words for the question TestAnAddedScreeningQuestion adds.
const addedBrief = "πλήρωσε αμοιβή για τη δουλειά"

// TestAnAddedScreeningQuestion adds a question in the middle of a copy of the screening, with
// its message in every language, as an editor does, runs Faros on the copy
// (FAROS_FLOWS_DIR, FAROS_LOCALES_DIR), and screens a person in every language to a
// counsellor: the new question is asked, and no test needs Go to know of it.
func TestAnAddedScreeningQuestion(t *testing.T) {
	flowsDir, localesDir := filepath.Join(t.TempDir(), "flows"), filepath.Join(t.TempDir(), "locales")
	copyDir(t, flows.Files, flowsDir)
	copyDir(t, locales.Files, localesDir)

	// In the middle of screening.yaml: a question that follows the middle question and goes
	// on where that one went.
	file := filepath.Join(flowsDir, "screening.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ids := shippedScreen(t).Engine.Screening()
	const added = "added_fee"
	text, ok := "", false
	for _, id := range ids[len(ids)/2:] {
		if text, ok = insertAfter(string(data), id, added); ok {
			break
		}
	}
	if !ok {
		t.Fatal("no screening question in the second half of screening.yaml has a next: to insert after")
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	langs := shippedScreen(t).Catalog.Languages()
	for _, lang := range langs {
		path := filepath.Join(localesDir, lang+".yaml")
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("\nq_" + added + ": \"(" + lang + ") Did you pay someone a fee for this job?\"\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	sc, err := loadScreen(os.DirFS(flowsDir), os.DirFS(localesDir))
	if err != nil {
		t.Fatalf("the edited content does not load: %v", err)
	}
	if !slices.Contains(sc.Engine.Screening(), added) || len(sc.Engine.Screening()) != len(ids)+1 {
		t.Fatalf("the edited screening: %v; want %s added", sc.Engine.Screening(), added)
	}

	r, fake := redistest.New(t), telegramtest.New(t)
	roster := filepath.Join(t.TempDir(), "roster.yaml")
	if err := os.WriteFile(roster, []byte(e2eRoster), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_ROSTER": roster,
		"FAROS_FLOWS_DIR": flowsDir, "FAROS_LOCALES_DIR": localesDir}, token, "violet harbour")
	for i, lang := range langs {
		person := &tgChat{t: t, fake: fake, id: int64(7601 + i), sc: sc}
		person.say("/start")
		person.press(lang)
		person.press("safe")
		person.press("check")
		if text := person.answer(map[string]string{"promise": "yes", "threats": "yes"}); !strings.Contains(text, sc.likelyLine(lang)) {
			t.Errorf("%s: the screening ended with %q; want the tier 2 result", lang, text)
		}
		if !slices.Contains(person.asked, "screening."+added) {
			t.Errorf("%s: the added question was not asked (asked %v)", lang, person.asked)
		}
		if !slices.ContainsFunc(fake.Texts(person.id), func(s string) bool { return strings.Contains(s, "("+lang+") Did you pay someone a fee") }) {
			t.Errorf("%s: the added question's text was not shown", lang)
		}
		person.press("yes")          // the offer
		person.press("yes")          // consent
		person.press("ekka")         // scope
		person.say("violet harbour") // the code word
	}
	// A case for each person reaches the counsellors.
	// A case for each person reaches the counsellors, and its packet names the new question
	// by its brief, among the answers that do not apply.
	cases, briefed := map[string]bool{}, map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); len(cases) < len(langs) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, call := range fake.Calls("sendMessage") {
			text := call.Params["text"]
			if m := caseID.FindStringSubmatch(text); m != nil && (call.Params["chat_id"] == "501" || call.Params["chat_id"] == "502") {
				cases[m[1]] = true
				if regexp.MustCompile(`(?m)^Δεν ισχύει[^\n]*` + addedBrief).MatchString(text) {
					briefed[m[1]] = true
				}
			}
		}
	}
	if len(cases) != len(langs) || len(briefed) != len(langs) {
		t.Errorf("%d cases reached the counsellors, %d with the new question's brief; want %d of each, one for each person", len(cases), len(briefed), len(langs))
	}
}

// insertAfter inserts the question added after the node id of a flow file, and sends id's
// next: to it; false when id has no next: of its own.
func insertAfter(text, id, added string) (string, bool) {
	lines := strings.SplitAfter(text, "\n")
	at := slices.Index(lines, "  "+id+":\n")
	if at < 0 {
		return "", false
	}
	end := at + 1
	for end < len(lines) && (strings.HasPrefix(lines[end], "    ") || strings.TrimSpace(lines[end]) == "") {
		end++
	}
	next := regexp.MustCompile(`^    next: (\S+)\n$`)
	for i := at + 1; i < end; i++ {
		if m := next.FindStringSubmatch(lines[i]); m != nil {
			lines[i] = "    next: " + added + "\n"
			node := "\n  " + added + ":\n    ask: q_" + added + "\n" +
				"    brief: \"" + addedBrief + "\"\n" +
				"    indicator: {code: debt_bondage, class: I, weight: 1}\n" +
				"    choices:\n" +
				"      - {id: \"yes\", label: choice_yes}\n" +
				"      - {id: \"no\", label: choice_no}\n" +
				"      - {id: unsure, label: choice_unsure}\n" +
				"      - {id: skip, label: choice_skip}\n" +
				"    next: " + m[1] + "\n"
			return strings.Join(slices.Insert(lines, end, node), ""), true
		}
	}
	return "", false
}

// copyDir writes the files of fsys into dir.
func copyDir(t *testing.T, fsys fs.FS, dir string) {
	t.Helper()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
