package dialog_test

import (
	"cmp"
	"errors"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	exprfile "github.com/expr-lang/expr/file"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/locales"
)

// flowID finds the id a flow file declares, as an editor writes it.
var flowID = regexp.MustCompile(`(?m)^id:[ \t]*["']?([a-z0-9_]+)`)

// FuzzLoad loads any bytes as one flow file among the shipped flows and locales: the bytes
// take the place of the shipped flow whose id they declare, or are one more file. Load must
// either report problems an editor can find (a file of the content, a line and column that are
// not negative and within the file, a sentence) in file and line order, or give an Engine
// on which a short conversation (/start, the first button twice, a button's label typed, other
// words, /help) answers every input with messages that exist in every language, and fails, if
// at all, only where a condition or value fails to evaluate.
func FuzzLoad(f *testing.F) {
	cat, err := locales.Load(locales.Files)
	if err != nil {
		f.Fatalf("locales: %v", err)
	}
	base := fstest.MapFS{}
	names, err := fs.Glob(flows.Files, "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(flows.Files, name)
		if err != nil {
			f.Fatal(err)
		}
		base[name] = &fstest.MapFile{Data: data}
		if name != dialog.TriggersFile {
			f.Add(data)
		}
	}
	shippedEngine, err := dialog.Load(base, cat)
	if err != nil {
		f.Fatalf("flows: %v", err)
	}
	fileOf := map[string]string{}
	for _, id := range shippedEngine.Flows() {
		fileOf[id] = shippedEngine.File(id)
	}
	for _, broken := range []string{
		"",
		"null",
		"[]",
		"id: menu\n",
		"id: menu\nstart: menu\nnodes: {}\n",
		"id: menu\nstart: menu\nnodes:\n  menu: [\n",
		"id: menu\nstart: menu\nnodes:\n  menu:\n    ask: menu_question\n    chioces: []\n",
		"id: menu\nstart: menu\nnodes:\n  menu:\n    say: help_numbers\n    next: menu\n",
		"id: menu\nstart: menu\nnodes:\n  menu:\n    ask: no_such_message\n    choices: [{id: a, label: menu_check, goto: nowhere}]\n",
		"id: menu\nstart: menu\nnodes:\n  menu:\n    branch:\n      - {when: \"answers +\", goto: screening}\n      - {else: true, goto: info}\n",
		"id: menu\nstart: menu\nnodes:\n  menu:\n    say: help_numbers\n    params: {Count: \"int(answers.danger)\"}\n    goto: info\n",
		"id: menu\nstart: m\nnodes:\n  m: &x {ask: menu_question, choices: [{id: a, label: menu_check, goto: screening}]}\n  n: *x\n",
		"id: Menu\nstart: Menu\nnodes:\n  Menu:\n    say: help_numbers\n    end: resume\n",
		"id: extra\nstart: s\nnodes:\n  s:\n    say: help_numbers\n    end: wait\n",
		"\ufeffid: menu\r\nstart: menu\r\n\tnodes: {}\r\n",
		"id: menu\nstart: m\xff\nnodes:\n  m\xff: {say: help_numbers}\n",
		"id: menu\n---\nid: info\n",
	} {
		f.Add([]byte(broken))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		name := "fuzz.yaml"
		if m := flowID.FindSubmatch(data); m != nil && fileOf[string(m[1])] != "" {
			name = fileOf[string(m[1])]
		}
		fsys := fstest.MapFS{}
		for n, file := range base {
			fsys[n] = file
		}
		fsys[name] = &fstest.MapFile{Data: data}

		e, err := dialog.Load(fsys, cat)
		if err != nil {
			var probs dialog.Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("Load: %v; want Problems", err)
			}
			checkProblems(t, fsys, probs)
			return
		}
		if e == nil {
			t.Fatal("Load returned neither an Engine nor an error")
		}
		converse(t, e, cat, name, data)
	})
}

// checkProblems checks that each problem points into a file of fsys, in file and line order.
func checkProblems(t *testing.T, fsys fstest.MapFS, probs dialog.Problems) {
	t.Helper()
	for i, p := range probs {
		if strings.TrimSpace(p.Msg) == "" {
			t.Errorf("problem %+v has no message", p)
		}
		file := fsys[p.File]
		if file == nil {
			t.Errorf("problem %q names %q, which is no file of the content", p, p.File)
			continue
		}
		if p.Line < 0 || p.Col < 0 || (p.Line == 0) != (p.Col == 0) {
			t.Errorf("problem %q has line %d, column %d", p, p.Line, p.Col)
		}
		// YAML breaks lines at "\n", "\r\n" and a lone "\r", as editors do.
		text := strings.ReplaceAll(strings.ReplaceAll(string(file.Data), "\r\n", "\n"), "\r", "\n")
		if lines := strings.Count(text, "\n") + 1; p.Line > lines {
			t.Errorf("problem %q is at line %d of a file of %d lines", p, p.Line, lines)
		}
		if i > 0 {
			prev := probs[i-1]
			if prev.File > p.File || (prev.File == p.File && prev.Line > p.Line) {
				t.Errorf("problem %q comes after %q", p, prev)
			}
		}
	}
}

// converse plays a short conversation on e and checks every step.
func converse(t *testing.T, e *dialog.Engine, cat *locales.Catalog, name string, data []byte) {
	t.Helper()
	var s dialog.State
	var last dialog.Output // the last question asked
	inputs := []func() dialog.Input{
		func() dialog.Input { return dialog.Input{Text: "/start"} },
		func() dialog.Input { return firstButton(last) },
		func() dialog.Input { return firstButton(last) },
		func() dialog.Input {
			in := firstButton(last)
			lang := cmp.Or(s.Lang, cat.Languages()[0])
			label, _ := cat.Text(cmp.Or(labelLang(last), lang), labelOf(last, in.Choice))
			return dialog.Input{Text: cmp.Or(label, "yes")}
		},
		func() dialog.Input { return dialog.Input{Text: "what is this"} },
		func() dialog.Input { return dialog.Input{Text: "/help"} },
	}
	for i, next := range inputs {
		in := next()
		got, outs, err := e.Step(s, in)
		if err != nil {
			var exprErr *exprfile.Error
			if errors.Is(err, dialog.ErrLoop) || !errors.As(err, &exprErr) {
				t.Fatalf("%s as %s: step %d %+v: %v; want no error but a condition's or value's", name, data, i, in, err)
			}
			return
		}
		if len(outs) == 0 {
			t.Fatalf("step %d %+v: no answer", i, in)
		}
		for _, o := range outs {
			checkOutput(t, cat, o)
			if o.Kind == dialog.Ask {
				last = o
			}
		}
		if c := clone(t, got); !reflect.DeepEqual(c, got) {
			t.Fatalf("step %d: state does not survive JSON: %+v", i, got)
		}
		s = got
	}
}

// checkOutput checks that the messages of o exist in every language.
func checkOutput(t *testing.T, cat *locales.Catalog, o dialog.Output) {
	t.Helper()
	var ids []string
	if o.Kind == dialog.Say || o.Kind == dialog.Ask {
		ids = append(ids, o.Msg)
	}
	for _, c := range o.Choices {
		if c.ID == "" {
			t.Errorf("output %+v has a choice without id", o)
		}
		ids = append(ids, c.Label)
	}
	for _, id := range ids {
		for _, lang := range cat.Languages() {
			if _, ok := cat.Text(lang, id); !ok {
				t.Errorf("output %v:%s needs the message %q, which is missing in %s", o.Kind, o.Msg, id, lang)
			}
		}
	}
}

func firstButton(o dialog.Output) dialog.Input {
	if len(o.Choices) == 0 {
		return dialog.Input{Text: "1"}
	}
	return dialog.Input{Choice: o.Choices[0].ID, Question: o.Question}
}

func labelOf(o dialog.Output, id string) string {
	i := slices.IndexFunc(o.Choices, func(c dialog.Choice) bool { return c.ID == id })
	if i < 0 {
		return ""
	}
	return o.Choices[i].Label
}

func labelLang(o dialog.Output) string {
	if len(o.Choices) == 0 {
		return ""
	}
	return o.Choices[0].Lang
}
