package locales_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/faros-project/faros/locales"
)

// FuzzFold checks what the engine relies on when it compares typed text with labels and
// emergency words: a folded text is its own fold, valid UTF-8, single-spaced, free of
// combining marks and of anything case folding would still change; the same words typed with
// composed or decomposed accents, or as separate pieces, fold alike.
func FuzzFold(f *testing.F) {
	for _, s := range []string{
		"", " ", "\t\n", "sos", "  two \t spaces ", "HELP ME", "Ça VA", "À L'AIDE",
		"ΒΟΗΘΕΙΑ", "βοήθεια", "κίνδυνος", "ΚΙΝΔΥΝΟΣ", "Ndihmë, më shpëtoni", "straße", "ẞ",
		"Ｓｏｓ", "ﬁ ﬀ", "İstanbul", "ı", "K Å Ω", // Kelvin, Angstrom and Ohm signs
		"ᾳ ᾼ ΐ", "ǰ ẖ", "e\u0301\u0301", "\u00a0nbsp\u2003em\u3000",
		"\xff\xfe", "a\xe2\x82", "\U0001D165\U0001D16D",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := locales.Fold(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%+q) = %+q; want valid UTF-8", s, got)
		}
		if again := locales.Fold(got); again != got {
			t.Errorf("Fold(%+q) = %+q, but Fold(%+q) = %+q; want Fold to be idempotent", s, got, got, again)
		}
		if spaced := strings.Join(strings.Fields(got), " "); got != spaced {
			t.Errorf("Fold(%+q) = %+q; want words separated by single spaces, as %+q", s, got, spaced)
		}
		for _, r := range got {
			if unicode.Is(unicode.Mn, r) {
				t.Errorf("Fold(%+q) = %+q holds the combining mark %U", s, got, r)
			}
			// Case folding turns letters into small ones, except Cherokee's into capitals.
			if unicode.Is(unicode.Cherokee, r) {
				if unicode.ToUpper(r) != r {
					t.Errorf("Fold(%+q) = %+q holds the Cherokee small letter %U, which folds to its capital", s, got, r)
				}
			} else if unicode.ToLower(r) != r {
				t.Errorf("Fold(%+q) = %+q holds the capital %U", s, got, r)
			}
		}
		if isASCII(s) {
			if up := locales.Fold(strings.ToUpper(s)); up != got {
				t.Errorf("Fold(%+q) = %+q, but Fold(%+q) = %+q; want the same", s, got, strings.ToUpper(s), up)
			}
		}
		if utf8.ValidString(s) {
			// A keyboard may send "ή" as one code point or as η and an accent.
			for name, form := range map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD} {
				if other := locales.Fold(form.String(s)); other != got {
					t.Errorf("Fold(%+q) = %+q, but Fold of its %s %+q = %+q; want the same", s, got, name, form.String(s), other)
				}
			}
		}
		// Words fold one by one: folding two pieces apart gives the fold of both together.
		a, b := s[:len(s)/2], s[len(s)/2:]
		whole := locales.Fold(a + " " + b)
		parts := strings.TrimSpace(locales.Fold(a) + " " + locales.Fold(b))
		if whole != parts {
			t.Errorf("Fold(%+q) = %+q; want %+q, the folds of %+q and %+q joined", a+" "+b, whole, parts, a, b)
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
