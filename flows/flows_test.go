package flows_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
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

// TestTranscripts replays every conversation in testdata; -update rewrites the bot's lines.
// A file named LANG_tierN... must reach tier N, and every language must reach every tier.
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
			got, tier, err := transcript.Replay(e, cat, sc)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(file, sc.Format(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				for _, d := range sc.Diff(got) {
					t.Error(d)
				}
			}
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
