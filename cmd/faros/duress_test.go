package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// The shipped duress words are public: Faros warns at start for each language that still
// has them, and not for one whose words the deployment chose.
func TestPublicDuressWordsWarned(t *testing.T) {
	r := redistest.New(t)
	in := start(t, r, nil)
	warning := regexp.MustCompile(`"level":"WARN","msg":"the duress words are the examples shipped in the public repository.*?","languages":"([^"]*)"`)
	m := warning.FindStringSubmatch(in.log.String())
	if m == nil || !strings.Contains(m[1], "el") || !strings.Contains(m[1], "en") {
		t.Fatalf("no warning naming every language with the shipped content:\n%s", in.log)
	}

	flowsDir, localesDir := filepath.Join(t.TempDir(), "flows"), filepath.Join(t.TempDir(), "locales")
	copyDir(t, flows.Files, flowsDir)
	copyDir(t, locales.Files, localesDir)
	el := filepath.Join(localesDir, "el.yaml")
	data, err := os.ReadFile(el)
	if err != nil {
		t.Fatal(err)
	}
	own := regexp.MustCompile(`(?m)^keywords_duress: .*$`).ReplaceAll(data, []byte(`keywords_duress: "πορτοκαλάδα, portokalada"`))
	if err := os.WriteFile(el, own, 0o644); err != nil {
		t.Fatal(err)
	}
	in = start(t, r, map[string]string{"FAROS_FLOWS_DIR": flowsDir, "FAROS_LOCALES_DIR": localesDir})
	m = warning.FindStringSubmatch(in.log.String())
	if m == nil || strings.Contains(" "+m[1]+" ", " el ") || !strings.Contains(m[1], "en") {
		t.Errorf("with Greek words of its own: want the warning for the others, not el:\n%s", in.log)
	}
}
