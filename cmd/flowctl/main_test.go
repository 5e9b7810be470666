package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is where editors run flowctl.
var repoRoot, _ = filepath.Abs("../..")

// flowctl runs the command in the repository root, as editors do, and returns its exit
// status and output.
func flowctl(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir(repoRoot)
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyContent copies the shipped flows and locales into a temporary directory, with edit
// applied to each file's text, and returns the two directories.
func copyContent(t *testing.T, edit func(name, text string) string) (flowsDir, localesDir string) {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"flows", "locales"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.yaml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := dir + "/" + filepath.Base(f)
			text := string(b)
			if edit != nil {
				text = edit(name, text)
			}
			if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(root, "flows"), filepath.Join(root, "locales")
}

func TestLintShippedContent(t *testing.T) {
	code, out, errOut := flowctl(t, "", "lint")
	if code != 0 {
		t.Fatalf("lint exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`^ok: \d+ flows, \d+ nodes, \d+ questions; 4 languages \(el en fr sq\), \d+ messages each\n$`).MatchString(out) {
		t.Errorf("lint says %q; want a one-line summary", out)
	}
}

// TestLintNamesFileLineAndKey breaks the content the two ways editors most often do: a key
// removed from one translation, a next: that points at no node.
func TestLintNamesFileLineAndKey(t *testing.T) {
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		switch name {
		case "locales/fr.yaml":
			return regexp.MustCompile(`(?m)^q_debt:.*\n`).ReplaceAllString(text, "")
		case "flows/screening.yaml":
			return strings.Replace(text, "next: journey", "next: jurney", 1)
		}
		return text
	})
	code, _, errOut := flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	if code != 1 {
		t.Fatalf("lint exit %d; want 1", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(regexp.QuoteMeta(localesDir) + `/en\.yaml:\d+:1: the key "q_debt" is missing from fr\.yaml`),
		regexp.MustCompile(regexp.QuoteMeta(flowsDir) + `/screening\.yaml:\d+:\d+: the message "q_debt" is missing in fr`),
		regexp.MustCompile(regexp.QuoteMeta(flowsDir) + `/screening\.yaml:\d+:\d+: next: there is no node "jurney" in the flow "screening" \(did you mean "journey"\?\)`),
		regexp.MustCompile(`\n3 problems\n$`),
	} {
		if !want.MatchString(errOut) {
			t.Errorf("lint output lacks %v:\n%s", want, errOut)
		}
	}
}

// TestFifthLanguage adds German with no Go change: lint, i18n and chat work with it.
func TestFifthLanguage(t *testing.T) {
	flowsDir, localesDir := copyContent(t, nil)
	en, err := os.ReadFile(filepath.Join(localesDir, "en.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	de := strings.NewReplacer(
		"language_name: English", "language_name: Deutsch",
		`language_prompt: "Choose your language:"`, `language_prompt: "Wähle deine Sprache:"`,
		`safety_question: "First: is it safe`, `safety_question: "Zuerst: Kannst du sicher schreiben? Is it safe`,
	).Replace(string(en))
	if err := os.WriteFile(filepath.Join(localesDir, "de.yaml"), []byte(de), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"--flows", flowsDir, "--locales", localesDir}

	code, out, errOut := flowctl(t, "", append([]string{"lint"}, dirs...)...)
	if code != 0 || !strings.Contains(out, "5 languages (de el en fr sq)") {
		t.Errorf("lint with German: exit %d, %q %q; want ok with 5 languages", code, out, errOut)
	}
	code, out, _ = flowctl(t, "", append([]string{"i18n"}, dirs...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^de\s+(\d+)/(\d+)\s+100\.0%`).MatchString(out) {
		t.Errorf("i18n with German: exit %d:\n%s", code, out)
	}
	code, out, errOut = flowctl(t, "1\n", append([]string{"chat", "--lang", "de"}, dirs...)...)
	if code != 0 {
		t.Fatalf("chat exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Wähle deine Sprache:", "Deutsch", "[language: de]", "Zuerst: Kannst du sicher schreiben?", "What would you like to do?"} {
		if !strings.Contains(out, want) {
			t.Errorf("the German chat lacks %q:\n%s", want, out)
		}
	}
}

func TestI18nReportsMissingAndExtraKeys(t *testing.T) {
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		if name == "locales/sq.yaml" {
			return regexp.MustCompile(`(?m)^q_hours:.*\n`).ReplaceAllString(text, "") + "q_hourz: \"Orë\"\n"
		}
		return text
	})
	code, out, _ := flowctl(t, "", "i18n", "--flows", flowsDir, "--locales", localesDir)
	if code != 1 {
		t.Errorf("i18n exit %d; want 1 for incomplete translations", code)
	}
	for _, want := range []string{"sq.yaml lacks: q_hours", "sq.yaml has keys the reference (en.yaml) does not: q_hourz"} {
		if !strings.Contains(out, want) {
			t.Errorf("i18n output lacks %q:\n%s", want, out)
		}
	}
	if row := regexp.MustCompile(`(?m)^sq\s+(\d+)/(\d+)\s+9\d\.\d%\s+1\s+1$`); !row.MatchString(out) {
		t.Errorf("i18n output lacks a row for sq with one key missing and one extra:\n%s", out)
	}
}

func TestChat(t *testing.T) {
	// English, safe, "Phone numbers for help", then typed text, then /stop.
	code, out, errOut := flowctl(t, "2\n1\n3\nhello\n/stop\n", "chat")
	if code != 0 {
		t.Fatalf("chat exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"  2. English",
		"[language: en]",
		"  1. It is safe",
		"112: emergency, if you are in danger now",
		"Sorry, I did not understand.",
		"Goodbye. You can write here again at any time.",
		"(the conversation is over; write anything to start again)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
}

func TestGraph(t *testing.T) {
	code, out, errOut := flowctl(t, "", "graph", "consent")
	if code != 0 {
		t.Fatalf("graph exit %d: %s", code, errOut)
	}
	for _, want := range []string{"flowchart TD", `n_agree -- "yes" --> n_scope`, `n_handoff[["handoff: handoff tier 1, asked"]]`, `n_declined --> g_menu_menu>"goto menu.menu"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("graph lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut = flowctl(t, "", "graph", "nope"); code != 1 || !strings.Contains(errOut, `there is no flow "nope"`) {
		t.Errorf("graph nope: exit %d, %q", code, errOut)
	}
}

func TestReplayTranscripts(t *testing.T) {
	code, out, errOut := flowctl(t, "", "test")
	if code != 0 || !regexp.MustCompile(`^ok: replayed \d+ transcripts, \d+ turns\n$`).MatchString(out) {
		t.Fatalf("test: exit %d, %q %q", code, out, errOut)
	}
	// A changed message makes the transcripts that show it fail, at the input's line.
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		if name == "locales/en.yaml" {
			return strings.Replace(text, `goodbye: "Goodbye.`, `goodbye: "Bye.`, 1)
		}
		return text
	})
	code, _, errOut = flowctl(t, "", "test", "--flows", flowsDir, "--locales", localesDir, "--transcripts", "flows/testdata")
	if code != 1 || !regexp.MustCompile(`flows/testdata/en_tier0\.txt:\d+: after "> /stop" the bot answers differently`).MatchString(errOut) {
		t.Errorf("test with a changed message: exit %d:\n%s", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, out, _ := flowctl(t, "", "help"); code != 0 || !strings.Contains(out, "flowctl lint") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	if code, _, errOut := flowctl(t, "", "paint"); code != 2 || !strings.Contains(errOut, `unknown command "paint"`) {
		t.Errorf("paint: exit %d, %q", code, errOut)
	}
}
