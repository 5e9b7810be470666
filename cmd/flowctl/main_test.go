package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
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
	want := `^checked the flows in ` + regexp.QuoteMeta(filepath.Join(repoRoot, "flows")) + ` and the messages in ` + regexp.QuoteMeta(filepath.Join(repoRoot, "locales")) + `\n` +
		`ok: \d+ flows, \d+ nodes, \d+ questions; \d+ languages \([a-z ]*el en[a-z ]*\), \d+ messages each\n$`
	if !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("lint says %q; want the content checked and a one-line summary", out)
	}
	// No shipped translation is left in English.
	code, out, _ = flowctl(t, "", "i18n")
	if code != 0 || strings.Contains(out, "is the same as in en.yaml") {
		t.Errorf("i18n exit %d:\n%s", code, out)
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
		regexp.MustCompile(`\n3 problems in the flows in ` + regexp.QuoteMeta(flowsDir) + ` and the messages in ` + regexp.QuoteMeta(localesDir) + `\n$`),
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
		"language_name_el: Αγγλικά", "language_name_el: Γερμανικά", "language_name_en: English", "language_name_en: German",
		`language_prompt: "Choose your language:"`, `language_prompt: "Wähle deine Sprache:"`,
		`safety_question: "First: is it safe`, `safety_question: "Zuerst: Kannst du sicher schreiben? Is it safe`,
	).Replace(string(en))
	if err := os.WriteFile(filepath.Join(localesDir, "de.yaml"), []byte(de), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"--flows", flowsDir, "--locales", localesDir}

	code, out, errOut := flowctl(t, "", append([]string{"lint"}, dirs...)...)
	if code != 0 || !regexp.MustCompile(`\d+ languages \(el en [a-z ]+ de\)`).MatchString(out) {
		t.Errorf("lint with German: exit %d, %q %q; want ok with German last", code, out, errOut)
	}
	// A copy of English is not yet a translation: i18n lists what is still in English.
	code, out, _ = flowctl(t, "", append([]string{"i18n"}, dirs...)...)
	if code != 1 || !regexp.MustCompile(`(?m)^de\s+\d+/\d+\s+\d\.\d%`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(localesDir)+`/de\.yaml:\d+: "goodbye" is the same as in en\.yaml: "Goodbye\.`).MatchString(out) ||
		strings.Contains(out, `"language_prompt" is the same`) || strings.Contains(out, `"language_name" is the same`) {
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
	// English (typed by its name), safe, "Phone numbers for help", then typed text, then /stop.
	code, out, errOut := flowctl(t, "English\n1\n3\nhello\n/stop\n", "chat")
	if code != 0 {
		t.Fatalf("chat exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		". English",
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
	if code != 0 || !regexp.MustCompile(`^checked the flows in .*\nok: replayed \d+ transcripts \(.*flows/testdata\), \d+ turns\n$`).MatchString(out) {
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
	// The diff reads as text, in every script.
	flowsDir, localesDir = copyContent(t, func(name, text string) string {
		if name == "locales/el.yaml" {
			return regexp.MustCompile(`(?m)^goodbye: "`).ReplaceAllString(text, `goodbye: "Γεια. `)
		}
		return text
	})
	code, _, errOut = flowctl(t, "", "test", "--flows", flowsDir, "--locales", localesDir, "--transcripts", "flows/testdata")
	if code != 1 || !strings.Contains(errOut, "\n+ < Γεια. ") || strings.Contains(errOut, `\x`) {
		t.Errorf("test with a changed Greek message: exit %d; want its lines as text:\n%s", code, errOut)
	}
}

// TestUpdateKeepsABrokenTranscript adds a screening question, as an editor does, and runs
// flowctl test --update: the transcripts whose answers shift and no longer prove what they
// declare are not rewritten, and the message says which, what changed and where to answer.
func TestUpdateKeepsABrokenTranscript(t *testing.T) {
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		switch {
		case name == "flows/screening.yaml":
			text = strings.Replace(text, "    next: not_agreed\n", "    next: added_fee\n", 1)
			return strings.Replace(text, "  not_agreed:\n", "  added_fee:\n    ask: q_added_fee\n    brief: \"πλήρωσε αμοιβή για τη δουλειά\"\n"+
				"    indicator: {code: debt_bondage, class: I, weight: 1}\n    choices: *answers\n    next: not_agreed\n\n  not_agreed:\n", 1)
		case strings.HasPrefix(name, "locales/"):
			return text + "\nq_added_fee: \"Did you pay someone a fee for this job?\"\n"
		}
		return text
	})
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, "flows", "testdata"))); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "en_tier2.txt"))
	code, out, errOut := flowctl(t, "", "test", "--update", "--flows", flowsDir, "--locales", localesDir, "--transcripts", dir)
	want := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(filepath.Join(dir, "en_tier2.txt")) +
		`: declares tier 2 with a handoff, but the conversation now ends at tier \d without one: a new question may need an answer here — add a line "> \[no\]" after line \d+, where the bot now asks q_added_fee`)
	if code != 1 || !want.MatchString(errOut) || !regexp.MustCompile(`\d+ transcripts? not rewritten \(.*en_tier2\.txt.*\)`).MatchString(errOut) {
		t.Errorf("test --update with an added question: exit %d, %q:\n%s", code, out, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "en_tier2.txt")); string(after) != string(before) {
		t.Error("en_tier2.txt was rewritten, though it no longer proves what it declares")
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

// lineOf returns the line number (from 1) of the first line of text that starts with prefix.
func lineOf(t *testing.T, text, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("no line starts with %q", prefix)
	return 0
}

// TestI18nSameAsEnglish leaves a French message in English: i18n counts it as missing and
// names its line; texts without words may be the same (testdata in locales/testdata/same).
func TestI18nSameAsEnglish(t *testing.T) {
	var fr string
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		if name == "locales/fr.yaml" {
			text = regexp.MustCompile(`(?m)^goodbye: .*$`).ReplaceAllString(text, `goodbye: "Goodbye. You can write here again at any time."`)
			fr = text
		}
		return text
	})
	code, out, _ := flowctl(t, "", "i18n", "--flows", flowsDir, "--locales", localesDir)
	if code != 1 {
		t.Errorf("i18n exit %d; want 1", code)
	}
	for _, want := range []string{
		"fr.yaml has 1 message written as in en.yaml, not translated (they count as missing):",
		fmt.Sprintf(`%s/fr.yaml:%d: "goodbye" is the same as in en.yaml: "Goodbye. You can write here again at any time."`, localesDir, lineOf(t, fr, "goodbye:")),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("i18n output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^fr\s+(\d+)/(\d+)\s+9\d\.\d%\s+1\s+0$`).MatchString(out) || strings.Contains(out, "fr.yaml lacks") {
		t.Errorf("i18n output lacks a row for fr with one key missing:\n%s", out)
	}

	code, out, _ = flowctl(t, "", "i18n", "--locales", "locales/testdata/same")
	if code != 1 || !strings.Contains(out, `locales/testdata/same/fr.yaml:3: "goodbye" is the same as in en.yaml: "Goodbye."`) ||
		!strings.Contains(out, `locales/testdata/same/fr.yaml:4: "answers" is the same as in en.yaml: "{{.Count}} answer"`) ||
		strings.Contains(out, `"phones"`) || strings.Contains(out, `"link"`) || strings.Contains(out, `"language_name"`) {
		t.Errorf("i18n of locales/testdata/same: exit %d:\n%s", code, out)
	}
}

// TestLintNearPlaceholders writes placeholders wrong: lint names each with what to write.
func TestLintNearPlaceholders(t *testing.T) {
	texts := map[string]string{}
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		switch name {
		case "locales/en.yaml":
			text = strings.Replace(text, "{{.Alias}}", "{{ .Alias }", 1)
		case "locales/el.yaml":
			text = strings.Replace(text, "{{.Alias}}", "{{Alias}}", 1)
		case "locales/fr.yaml":
			text = strings.Replace(text, "{{.Alias}}", "{.Alias}", 1)
		case "locales/sq.yaml":
			text = strings.Replace(text, "{{.Alias}}", "{{.alias}}", 1)
		}
		texts[name] = text
		return text
	})
	code, _, errOut := flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	if code != 1 {
		t.Fatalf("lint exit %d; want 1", code)
	}
	for lang, want := range map[string]string{
		"en": `"handoff_claimed" has {{ .Alias }, which is not a placeholder: write {{.Alias}}`,
		"el": `"handoff_claimed" has {{Alias}}, which is not a placeholder: write {{.Alias}}`,
		"fr": `"handoff_claimed" has {.Alias}, which is not a placeholder: write {{.Alias}}`,
		"sq": `"handoff_claimed" has {{.alias}}, but Faros gives this message {{.Alias}}: write {{.Alias}}`,
	} {
		at := fmt.Sprintf("%s/%s.yaml:%d:", localesDir, lang, lineOf(t, texts["locales/"+lang+".yaml"], "handoff_claimed:"))
		if !regexp.MustCompile(regexp.QuoteMeta(at) + `\d+: the text of ` + regexp.QuoteMeta(want)).MatchString(errOut) {
			t.Errorf("lint output lacks %s … %s:\n%s", at, want, errOut)
		}
	}

	// Well formed in every language, but a value no flow gives.
	flowsDir, localesDir = copyContent(t, func(name, text string) string {
		if strings.HasPrefix(name, "locales/") {
			text = regexp.MustCompile(`(?m)^(goodbye: ")`).ReplaceAllString(text, "${1}{{.Name}} ")
		}
		texts[name] = text
		return text
	})
	code, _, errOut = flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	want := fmt.Sprintf(`%s/fr.yaml:%d:11: the text of "goodbye" has {{.Name}}, but Faros gives this message no values: leave it out`,
		localesDir, lineOf(t, texts["locales/fr.yaml"], "goodbye:"))
	langs, _ := filepath.Glob(filepath.Join(localesDir, "*.yaml"))
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, fmt.Sprintf("\n%d problems in ", len(langs))) {
		t.Errorf("lint exit %d; want 1 and %q, once in each language:\n%s", code, want, errOut)
	}

	// A flow that gives the plural message another name: still Count, which Render needs.
	flowsDir, localesDir = copyContent(t, func(name, text string) string {
		if strings.HasPrefix(name, "locales/") {
			text = regexp.MustCompile(`(?m)^(  one: .*)\{\{\.Count\}\}`).ReplaceAllString(text, "${1}{{.Answered}}")
		}
		return text
	})
	code, _, errOut = flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	if code != 1 || !strings.Contains(errOut, `the "one" form of "consent_what" has {{.Answered}}, but Faros gives this message only {{.Count}}: write one of those, or leave it out`) {
		t.Errorf("lint exit %d:\n%s", code, errOut)
	}
}

// TestLintDuplicateKey writes a key twice: lint names both lines.
func TestLintDuplicateKey(t *testing.T) {
	texts := map[string]string{}
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		switch name {
		case "locales/sq.yaml":
			text += "goodbye: \"Mirupafshim.\"\n"
		case "flows/screening.yaml":
			text = strings.Replace(text, "\nnodes:\n", "\nnodes:\n  documents:\n    say: goodbye\n    end: stop\n", 1)
		}
		texts[name] = text
		return text
	})
	code, _, errOut := flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	sq := texts["locales/sq.yaml"]
	screening := texts["flows/screening.yaml"]
	for _, want := range []string{
		fmt.Sprintf(`%s/sq.yaml:%d:1: the key "goodbye" is already defined on line %d: keep one of the two`,
			localesDir, strings.Count(sq, "\n"), lineOf(t, sq, "goodbye:")),
		fmt.Sprintf(`%s/screening.yaml:%d:3: the key "documents" is already defined on line %d: keep one of the two`,
			flowsDir, lineOf(t, strings.Replace(screening, "  documents:", "  XX", 1), "  documents:"), lineOf(t, screening, "  documents:")),
	} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("lint exit %d; want 1 and %q:\n%s", code, want, errOut)
		}
	}
}

// TestLintIndentation mis-indents a line in the middle of a message file and of a flow: lint
// names that line, not the top of the file.
func TestLintIndentation(t *testing.T) {
	texts := map[string]string{}
	flowsDir, localesDir := copyContent(t, func(name, text string) string {
		switch name {
		case "locales/fr.yaml":
			text = regexp.MustCompile(`(?m)^(q_debt:)`).ReplaceAllString(text, " $1")
		case "flows/screening.yaml":
			text = strings.Replace(text, "    next: journey", "   next: journey", 1)
		}
		texts[name] = text
		return text
	})
	code, _, errOut := flowctl(t, "", "lint", "--flows", flowsDir, "--locales", localesDir)
	for _, want := range []string{
		fmt.Sprintf(`%s/fr.yaml:%d:2: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)`,
			localesDir, lineOf(t, texts["locales/fr.yaml"], " q_debt:")),
		fmt.Sprintf(`%s/screening.yaml:%d:4: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)`,
			flowsDir, lineOf(t, texts["flows/screening.yaml"], "   next: journey")),
	} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("lint exit %d; want 1 and %q:\n%s", code, want, errOut)
		}
	}
}

// TestOutsideRepository runs flowctl where there is no content: it checks the content built
// into it, and says so.
func TestOutsideRepository(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	if code := run([]string{"lint"}, strings.NewReader(""), &out, &errOut); code != 0 ||
		!strings.HasPrefix(out.String(), "checked the content built into flowctl (there is no flows or locales directory here)\nok: ") {
		t.Errorf("lint outside the repository: exit %d, %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"i18n"}, strings.NewReader(""), &out, &errOut); code != 0 ||
		!strings.HasPrefix(out.String(), "checked the messages built into flowctl (there is no locales directory here)\n") {
		t.Errorf("i18n outside the repository: exit %d, %q", code, out.String())
	}
	if err := os.Mkdir("flows", 0o755); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	run([]string{"lint"}, strings.NewReader(""), &out, &errOut)
	if want := "in the flows in " + filepath.Join(abs("."), "flows") + " and the messages built into flowctl (there is no locales directory here)"; !strings.Contains(errOut.String(), want) {
		t.Errorf("lint with an empty flows directory: want %q:\n%s", want, errOut.String())
	}
}

// TestBuiltOutsideRepository builds flowctl and runs it in an empty directory.
func TestBuiltOutsideRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowctl")
	}
	bin := filepath.Join(t.TempDir(), "flowctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "lint")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "checked the content built into flowctl") {
		t.Errorf("flowctl lint in an empty directory: %v\n%s", err, out)
	}
}
