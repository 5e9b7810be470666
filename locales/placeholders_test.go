package locales_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// TestNearPlaceholders loads testdata/near, whose el.yaml writes {{.Count}} and {{.Alias}}
// wrong in each way editors do: each is reported where it is written, with what to write.
func TestNearPlaceholders(t *testing.T) {
	_, err := locales.Load(os.DirFS("testdata/near"))
	var probs dialog.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Load: %v; want problems", err)
	}
	want := []string{
		`el.yaml:3:9: the "one" form of "answers" has {.Count}, which is not a placeholder: write {{.Count}}`,
		`el.yaml:7:11: the "other" form of "questions" has {{ .Count }, which is not a placeholder: write {{.Count}}`,
		`el.yaml:9:9: the "one" form of "steps" has {{Count}}, which is not a placeholder: write {{.Count}}`,
		`el.yaml:12:9: the "one" form of "minutes" has {{.count}}, but Faros gives this message {{.Count}}: write {{.Count}}`,
		`el.yaml:14:23: the text of "handoff_claimed" has {{.alias}}, but Faros gives this message {{.Alias}}: write {{.Alias}}`,
		`el.yaml:18:16: the text of "long" has {{.Count}, which is not a placeholder: write {{.Count}}`,
	}
	if diff := cmp.Diff(want, probs.Strings()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestCheckParams checks well-formed placeholders against the values Faros gives: from the
// flows (given), from Go code (GoParams: handoff_claimed has Alias) and Count for plurals.
func TestCheckParams(t *testing.T) {
	cat, err := locales.Load(os.DirFS("testdata/params"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := cat.CheckParams(map[string][]string{"summary": {"Count"}, "score": {"Count"}}).Strings()
	want := []string{
		`el.yaml:5:18: the text of "goodbye" has {{.Name}}, but Faros gives this message no values: leave it out`,
		`el.yaml:6:24: the text of "summary" has {{.count}}, but Faros gives this message {{.Count}}: write {{.Count}}`,
		`el.yaml:7:17: the text of "score" has {{.Total}}, but Faros gives this message only {{.Count}}: write one of those, or leave it out`,
		`en.yaml:6:20: the text of "goodbye" has {{.Name}}, but Faros gives this message no values: leave it out`,
		`en.yaml:7:24: the text of "summary" has {{.count}}, but Faros gives this message {{.Count}}: write {{.Count}}`,
		`en.yaml:8:21: the text of "score" has {{.Total}}, but Faros gives this message only {{.Count}}: write one of those, or leave it out`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestGoParams finds the Go calls that render a message with values (a message id and a
// map[string]any{"Name": …} in the same call) and checks that GoParams names them, and that
// GoParams names nothing else.
func TestGoParams(t *testing.T) {
	cat := shipped(t)
	ids := cat.IDs()
	found := map[string][]string{}
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var msg string
			var keys []string
			for _, a := range call.Args {
				switch a := a.(type) {
				case *ast.BasicLit:
					if s, err := strconv.Unquote(a.Value); err == nil && a.Kind == token.STRING && slices.Contains(ids, s) {
						msg = s
					}
				case *ast.CompositeLit:
					if _, ok := a.Type.(*ast.MapType); !ok {
						continue
					}
					for _, el := range a.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.BasicLit); ok && k.Kind == token.STRING {
								s, _ := strconv.Unquote(k.Value)
								keys = append(keys, s)
							}
						}
					}
				}
			}
			if msg != "" && len(keys) > 0 {
				found[msg] = append(found[msg], keys...)
				for _, k := range keys {
					if !slices.Contains(locales.GoParams[msg], k) {
						t.Errorf("%s renders %q with %q: add it to locales.GoParams", path, msg, k)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for msg, names := range locales.GoParams {
		for _, n := range names {
			if !slices.Contains(found[msg], n) {
				t.Errorf("locales.GoParams gives %q the value %q, but no Go code renders it with that", msg, n)
			}
		}
	}
}

// TestCompareSame reads testdata/same, whose fr.yaml leaves two messages in English: they
// count as missing, at their lines; texts without words, the language name and the lists of
// typed words may be the same.
func TestCompareSame(t *testing.T) {
	cov, err := locales.Compare(os.DirFS("testdata/same"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cov) != 2 || cov[1].Lang != "fr" {
		t.Fatalf("Compare = %+v; want en and fr", cov)
	}
	fr := cov[1]
	wantSame := []locales.Same{{ID: "answers", Line: 4, Text: "{{.Count}} answer"}, {ID: "goodbye", Line: 3, Text: "Goodbye."}}
	if diff := cmp.Diff(wantSame, fr.Same); diff != "" {
		t.Errorf("Same (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"answers", "goodbye"}, fr.Missing); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	if fr.Have != 5 || fr.Total != 7 {
		t.Errorf("fr has %d/%d; want 5/7", fr.Have, fr.Total)
	}
	if en := cov[0]; len(en.Same) > 0 || en.Have != en.Total {
		t.Errorf("en = %+v; want complete: the reference is never the same as itself", en)
	}
}

// TestShippedTranslated checks that no shipped translation leaves a message in English.
func TestShippedTranslated(t *testing.T) {
	cov, err := locales.Compare(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cov {
		for _, s := range c.Same {
			t.Errorf("%s.yaml:%d: %q is the same as in en.yaml: %q", c.Lang, s.Line, s.ID, s.Text)
		}
	}
}
