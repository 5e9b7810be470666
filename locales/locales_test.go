package locales_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

func shipped(t *testing.T) *locales.Catalog {
	t.Helper()
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cat
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ΒΟΗΘΕΙΑ", "βοηθεια"},
		{"βοήθεια", "βοηθεια"},
		{"βοηθεια", "βοηθεια"},
		{"ΚΙΝΔΥΝΟΣ", "κινδυνοσ"},
		{"κίνδυνος", "κινδυνοσ"}, // final sigma folds like the capital
		{"Ndihmë, më shpëtoni", "ndihme, me shpetoni"},
		{"Ça VA", "ca va"},
		{"À L'AIDE", "a l'aide"},
		{"Ｓｏｓ", "sos"}, // full-width letters, as some keyboards type them
		{"  two \t spaces ", "two spaces"},
		{"straße", "strasse"},
		{"বাঁচাও", "বাচাও"},          // Bengali: the candrabindu may be left out; the vowel signs stay
		{"সাহায্য", "সাহাযয"},        // and the hasanta
		{"مدد", "مدد"},               // Urdu
		{"مَدَد", "مدد"},             // with the optional vowel marks
		{"بچا\u200cؤ", "بچاو"},       // a zero-width non-joiner inside a word; the hamza above is a mark
		{"\u200fhelp\u200e", "help"}, // pasted direction marks
		{"۱۱۲", "112"},               // Urdu keyboard digits
		{"١١٢ ১১২", "112 112"},       // Arabic and Bengali digits
		{"كيا مدد", "کیا مدد"},       // the Arabic keyboard's kaf and yeh, as Urdu keyboards type them
		{"مجهے مار", "مجہے مار"},     // the Arabic keyboard's heh, for the Urdu keyboard's do-chashmi heh
		{"مجھے مار", "مجہے مار"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := locales.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestFoldBounded checks that Fold reads and returns at most MaxFold runes, however much a
// text's characters decompose or its case folding lengthens it.
func TestFoldBounded(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain letters beyond the budget", strings.Repeat("a", locales.MaxFold+10), strings.Repeat("a", locales.MaxFold)},
		{"a space at the cut", strings.Repeat("A ", locales.MaxFold), strings.TrimSpace(strings.Repeat("a ", locales.MaxFold/2))},
		{"accented letters beyond the budget", strings.Repeat("é", locales.MaxFold), strings.Repeat("e", locales.MaxFold/2)},
		{"case folding that lengthens", strings.Repeat("ß", 5000), strings.Repeat("s", locales.MaxFold)},
		{"marks without end", "x" + strings.Repeat("\u0301", 100000), "x"},
		// The last character's decomposition fits in part.
		{"characters that decompose into 18", strings.Repeat("\uFDFA", 4096), locales.Fold(string([]rune(norm.NFKD.String(strings.Repeat("\uFDFA", 4096)))[:locales.MaxFold]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := locales.Fold(tt.in)
			if got != tt.want {
				t.Errorf("Fold: got %d runes %.40q…; want %d runes %.40q…", utf8.RuneCountInString(got), got, utf8.RuneCountInString(tt.want), tt.want)
			}
			if again := locales.Fold(got); again != got {
				t.Errorf("Fold of the fold: got %d runes; want the same %d", utf8.RuneCountInString(again), utf8.RuneCountInString(got))
			}
		})
	}
}

// TestEmergencyNumberEverywhere checks that the messages a person may get instead of an
// answer, or when asking for help, give the emergency number in every language: nobody is
// left with only "I did not understand".
func TestEmergencyNumberEverywhere(t *testing.T) {
	cat := shipped(t)
	for _, id := range []string{"not_understood", "slow_down", "offline_numbers", "help_numbers", "emergency_numbers"} {
		for _, lang := range cat.Languages() {
			if text, _ := cat.Text(lang, id); !strings.Contains(text, "112") {
				t.Errorf("%s %s = %q; want it to give 112", lang, id, text)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	cat := shipped(t)
	tests := []struct{ in, want string }{
		{"el", "el"},
		{"el-GR", "el"},
		{"el-CY", "el"},
		{"en", "en"},
		{"en-US", "en"},
		{"en-NG", "en"},
		{"fr", "fr"},
		{"fr-CD", "fr"},
		{"fr-CM", "fr"},
		{"sq", "sq"},
		{"sq-XK", "sq"},
		{"ja-JP,ja;q=0.9,fr;q=0.5", "fr"},
		{"ja", ""},
		{"pt-br", ""},
		{"ar", ""},
		{"", ""},
		{"not a language", ""},
	}
	for _, tt := range tests {
		if got := cat.Match(tt.in); got != tt.want {
			t.Errorf("Match(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderPluralForms(t *testing.T) {
	cat := shipped(t)
	tests := []struct {
		lang  string
		count int
		has   string
	}{
		{"en", 1, "your answer to 1 question "},
		{"en", 17, "your answers to 17 questions "},
		{"el", 1, "1 ερώτηση"},
		{"el", 17, "17 ερωτήσεις"},
		{"fr", 1, "1 question "},
		{"fr", 17, "17 questions"},
		{"sq", 1, "1 pyetje"},
		{"sq", 17, "17 pyetje"},
	}
	for _, tt := range tests {
		got := cat.Render(tt.lang, "consent_what", map[string]any{"Count": tt.count})
		if !strings.Contains(got, tt.has) {
			t.Errorf("Render(%s, consent_what, %d) = %q; want it to contain %q", tt.lang, tt.count, got, tt.has)
		}
	}
}

func TestRenderEveryLanguage(t *testing.T) {
	cat := shipped(t)
	got := strings.Split(cat.Render("", "language_prompt", nil), "\n")
	if len(got) != len(cat.Languages()) {
		t.Errorf("the language prompt in every language has %d lines; want one a language: %q", len(got), got)
	}
	if got := cat.Render("el", "no_such_message", nil); got != "[no_such_message]" {
		t.Errorf("a missing message renders as %q; want its id in brackets", got)
	}
}

// TestShippedWording checks what no translation may do: name the reader a victim or the
// situation trafficking or prostitution, and (for Greek, French, Albanian) lose its accents.
func TestShippedWording(t *testing.T) {
	cat := shipped(t)
	forbidden := map[string][]string{
		"en": {"victim", "traffick", "prostitut"},
		"el": {"θυμα", "εμπορια", "πορνεια", "πορνη"},
		"fr": {"victime", "traite", "prostitu"},
		"sq": {"viktim", "trafik", "prostitu"},
		"ur": {"اسمگلنگ", "متاثرہ", "شکار", "جسم فروشی", "بردہ فروشی"},
		"bn": {"পাচার", "ভুক্তভোগী", "শিকার", "পতিতা", "দেহব্যবসা"},
	}
	marks := map[string]string{"el": "άέήίόύώ", "fr": "éèàçêù", "sq": "ëç"}
	for _, lang := range cat.Languages() {
		all := ""
		for _, id := range cat.IDs() {
			text, _ := cat.Text(lang, id)
			all += text + "\n"
			folded := locales.Fold(text)
			for _, word := range forbidden[lang] {
				if strings.Contains(folded, word) {
					t.Errorf("%s %s says %q: %q", lang, id, word, text)
				}
			}
		}
		if m := marks[lang]; m != "" && !strings.ContainsAny(all, m) {
			t.Errorf("%s has none of %q: accents lost?", lang, m)
		}
	}
}

func TestLoadProblems(t *testing.T) {
	const en = "hello: \"Hello\"\ncount:\n  one: \"{{.Count}} answer\"\n  other: \"{{.Count}} answers\"\n"
	const el = "hello: \"Γεια\"\ncount:\n  one: \"{{.Count}} απάντηση\"\n  other: \"{{.Count}} απαντήσεις\"\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "key missing in one language",
			files: map[string]string{"en.yaml": en, "el.yaml": "count:\n  one: \"{{.Count}} απάντηση\"\n  other: \"{{.Count}} απαντήσεις\"\n"},
			want:  []string{`en.yaml:1:1: the key "hello" is missing from el.yaml`},
		},
		{
			name:  "key in one language only",
			files: map[string]string{"en.yaml": en, "el.yaml": el + "extra: \"Περισσότερα\"\n"},
			want:  []string{`el.yaml:5:1: the key "extra" is missing from en.yaml`},
		},
		{
			name:  "placeholders differ",
			files: map[string]string{"en.yaml": en, "el.yaml": strings.Replace(el, "{{.Count}} απαντήσεις", "{{.Number}} απαντήσεις", 1)},
			want:  []string{`el.yaml:2:1: the placeholders of "count" differ: en.yaml has {{.Count}}, el.yaml has {{.Count}} {{.Number}}`},
		},
		{
			name:  "plural forms without other",
			files: map[string]string{"en.yaml": en, "el.yaml": "hello: \"Γεια\"\ncount:\n  one: \"{{.Count}} απάντηση\"\n"},
			want:  []string{`el.yaml:2:1: the message "count" has plural forms but no "other" form`},
		},
		{
			name:  "not a plural form",
			files: map[string]string{"en.yaml": en, "el.yaml": el + "odd:\n  single: \"x\"\n  other: \"y\"\n"},
			want:  []string{`el.yaml:6:3: "single" is not a plural form: use zero, one, two, few, many, other`},
		},
		{
			name:  "not a text",
			files: map[string]string{"en.yaml": en, "el.yaml": el + "list: [a, b]\n"},
			want:  []string{`el.yaml:5:7: the message "list" must be a text (in quotes if it has a colon) or plural forms`},
		},
		{
			name:  "broken placeholder",
			files: map[string]string{"en.yaml": en, "el.yaml": strings.Replace(el, "\"Γεια\"", "\"Γεια {{.Name\"", 1)},
			want:  []string{`el.yaml:1:14: the text of "hello" has {{.Name, which is not a placeholder: write {{.Name}}`},
		},
		{
			name:  "broken template logic",
			files: map[string]string{"en.yaml": en, "el.yaml": strings.Replace(el, "\"Γεια\"", "\"Γεια {{if .Count}}\"", 1)},
			want:  []string{`el.yaml:1:1: the text of "hello" has a broken {{...}}: template: hello:1: unexpected EOF`},
		},
		{
			name:  "key written twice",
			files: map[string]string{"en.yaml": en, "el.yaml": el + "hello: \"Χαίρε\"\n"},
			want:  []string{`el.yaml:5:1: the key "hello" is already defined on line 1: keep one of the two`},
		},
		{
			name:  "file name is not a language",
			files: map[string]string{"en.yaml": en, "greek.yaml": el},
			want:  []string{`greek.yaml: the file name must be a language code, such as el.yaml or sq.yaml`},
		},
		{
			name:  "yaml syntax",
			files: map[string]string{"en.yaml": en, "el.yaml": "hello: \"Γεια\ncount: 2\n"},
			want:  []string{`el.yaml:1:1: YAML syntax: found unexpected end of stream: is a quote opened on this line never closed?`},
		},
		{
			name:  "a line indented too little in the middle",
			files: map[string]string{"en.yaml": en, "el.yaml": "hello: \"Γεια\"\ncount:\n  one: \"{{.Count}} απάντηση\"\n other: \"{{.Count}} απαντήσεις\"\nbye: \"Αντίο\"\n"},
			want:  []string{`el.yaml:4:2: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)`},
		},
		{
			name:  "a line indented too much in the middle",
			files: map[string]string{"en.yaml": en, "el.yaml": "hello: \"Γεια\"\n  bye: \"Αντίο\"\ncount:\n  one: \"{{.Count}} απάντηση\"\n  other: \"{{.Count}} απαντήσεις\"\n"},
			want:  []string{`el.yaml:2:3: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)`},
		},
		{
			name:  "plural form the language needs",
			files: map[string]string{"en.yaml": en, "fr.yaml": "hello: \"Bonjour\"\ncount:\n  one: \"{{.Count}} réponse\"\n  other: \"{{.Count}} réponses\"\n"},
			want:  []string{`fr.yaml:2:1: the message "count" cannot say 1000000: message "count" has no plural form "many"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(text)}
			}
			_, err := locales.Load(fsys)
			var probs dialog.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load: %v; want problems", err)
			}
			if diff := cmp.Diff(tt.want, probs.Strings()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// InOrder gives the languages in the flows' order, and matching still finds each.
func TestInOrder(t *testing.T) {
	cat := shipped(t)
	o := cat.InOrder([]string{"sq", "xx", "fr"})
	if got := o.Languages(); !slices.Equal(got[:2], []string{"sq", "fr"}) || len(got) != len(cat.Languages()) {
		t.Errorf("InOrder: %v; want sq, fr, then the others", got)
	}
	for _, lang := range cat.Languages() {
		if got := o.Match(lang); got != lang {
			t.Errorf("Match(%q) after InOrder = %q", lang, got)
		}
	}
	if lines := strings.Split(o.Render("", "language_name", nil), "\n"); lines[0] != o.Render("sq", "language_name", nil) {
		t.Errorf("every language's text starts with %q; want the first language's", lines[0])
	}
}

// In a language written right to left, a command keeps its slash before its word.
func TestCommandsInRightToLeftText(t *testing.T) {
	cat := shipped(t)
	for _, lang := range cat.Languages() {
		text := cat.Render(lang, "safety_tips", nil)
		marked := strings.Contains(text, "\u200e/wipe")
		script, _ := language.Make(lang).Script()
		if rtl := script.String() == "Arab"; marked != rtl || !strings.Contains(text, "/wipe") {
			t.Errorf("%s (%s): /wipe marked left-to-right %v; want %v:\n%s", lang, script, marked, rtl, text)
		}
	}
}
