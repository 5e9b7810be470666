package content_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/internal/content"
)

func TestBuilt(t *testing.T) {
	e, cat, err := content.Load(content.Built())
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Flows()) == 0 || len(cat.Languages()) == 0 {
		t.Errorf("the built-in content has %d flows, %d languages", len(e.Flows()), len(cat.Languages()))
	}
}

// TestDirs breaks a copy of the shipped content in the ways only the three checks together
// find: the service refuses what flowctl lint refuses, each problem named under its directory.
func TestDirs(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"flows", "locales"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", dir, "*.yaml"))
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			switch {
			case dir == "locales": // a placeholder no flow fills in, in every language
				text = strings.Replace(text, "\ngoodbye: \"", "\ngoodbye: \"{{.Name}} ", 1)
			case filepath.Base(f) == "menu.yaml": // a misspelt key
				text = strings.Replace(text, "    say:", "    sya:", 1)
			}
			if err := os.WriteFile(filepath.Join(root, dir, filepath.Base(f)), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	flowsDir, localesDir := filepath.Join(root, "flows"), filepath.Join(root, "locales")
	_, _, err := content.Load(content.Dirs(flowsDir, localesDir))
	var probs dialog.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Load: %v; want problems", err)
	}
	for _, want := range []string{
		flowsDir + "/menu.yaml:",
		`unknown key "sya" (did you mean "say"?)`,
		localesDir + "/fr.yaml:",
		`the text of "goodbye" has {{.Name}}, but Faros gives this message no values: leave it out`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

// Each language's names for the counsellors are written, and no two alike: a counsellor must
// never read that the person speaks another language.
func TestNamesForCounsellors(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"flows", "locales"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", dir, "*.yaml"))
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			switch filepath.Base(f) {
			case "fr.yaml":
				text = strings.Replace(text, "language_name_el: Γαλλικά", "language_name_el: Αγγλικά", 1)
			case "sq.yaml":
				text = strings.Replace(text, "language_name_en: Albanian", `language_name_en: " "`, 1)
			}
			if err := os.WriteFile(filepath.Join(root, dir, filepath.Base(f)), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	locales := filepath.Join(root, "locales")
	_, _, err := content.Load(content.Dirs(filepath.Join(root, "flows"), locales))
	for _, want := range []string{
		locales + `/fr.yaml: language_name_el "Αγγλικά" is en's too: the counsellors would read the wrong language`,
		locales + `/sq.yaml: language_name_en is empty: write the language's name, for the counsellors`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("load: %v\nwant %s", err, want)
		}
	}
}
