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
// combining marks and of anything case folding would still change, never longer than MaxFold
// runes; the same words typed with composed or decomposed accents, or (below the budget) as
// separate pieces, fold alike.
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
		checkFolded(t, s, got)
		if isASCII(s) {
			if up := locales.Fold(strings.ToUpper(s)); up != got {
				t.Errorf("Fold(%+q) = %+q, but Fold(%+q) = %+q; want the same", s, got, strings.ToUpper(s), up)
			}
		}
		// Words fold one by one: folding two pieces apart gives the fold of both together. Only
		// below the budget: a text beyond it is cut at MaxFold runes, and its pieces, each
		// within it, are not. Case folding at most doubles a text (ß is ss), so a text whose
		// decomposition fits half the budget is never cut, whole or in pieces.
		a, b := s[:len(s)/2], s[len(s)/2:]
		decomposed := norm.NFKD.String(strings.ToValidUTF8(a+" "+b, "\uFFFD"))
		if 2*utf8.RuneCountInString(decomposed) <= locales.MaxFold {
			whole := locales.Fold(a + " " + b)
			parts := strings.TrimSpace(locales.Fold(a) + " " + locales.Fold(b))
			if whole != parts {
				t.Errorf("Fold(%+q) = %+q; want %+q, the folds of %+q and %+q joined", a+" "+b, whole, parts, a, b)
			}
		}
	})
}

// FuzzLongFold folds texts beyond the budget: the fuzzed text repeated past MaxFold bytes, so
// that the cut falls anywhere in it, while the fuzzer itself works on short texts (it slows
// to a halt on long ones). The fold must keep every property FuzzFold checks but the pieces'.
func FuzzLongFold(f *testing.F) {
	for _, s := range []string{
		"\uFDFA",           // decomposes into 18 runes, with spaces
		"\u3300", "\u2474", // squared katakana, parenthesised digits
		"e\u0301", "é", "x\u0301\u0301\u0301", // marks, composed or not
		"ß", "ΐ", // case folding lengthens
		"한국어 ", "Βοήθεια! ", "a ",
		"\xff", "a\xe2\x82",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		long := strings.Repeat(s, locales.MaxFold/len(s)+1)
		checkFolded(t, long, locales.Fold(long))
	})
}

// checkFolded checks got, the fold of s: what every fold must be.
func checkFolded(t *testing.T, s, got string) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Fatalf("Fold(%+.80q) = %+.80q; want valid UTF-8", s, got)
	}
	if n := utf8.RuneCountInString(got); n > locales.MaxFold {
		t.Errorf("Fold of %d bytes has %d runes; want at most MaxFold, %d", len(s), n, locales.MaxFold)
	}
	if again := locales.Fold(got); again != got {
		t.Errorf("Fold(%+.80q) = %+.80q, but Fold(%+.80q) = %+.80q; want Fold to be idempotent", s, got, got, again)
	}
	if spaced := strings.Join(strings.Fields(got), " "); got != spaced {
		t.Errorf("Fold(%+.80q) = %+.80q; want words separated by single spaces, as %+.80q", s, got, spaced)
	}
	for _, r := range got {
		if unicode.Is(unicode.Mn, r) {
			t.Errorf("Fold(%+.80q) = %+.80q holds the combining mark %U", s, got, r)
		}
		// Case folding turns letters into small ones, except Cherokee's into capitals.
		if unicode.Is(unicode.Cherokee, r) {
			if unicode.ToUpper(r) != r {
				t.Errorf("Fold(%+.80q) = %+.80q holds the Cherokee small letter %U, which folds to its capital", s, got, r)
			}
		} else if unicode.ToLower(r) != r {
			t.Errorf("Fold(%+.80q) = %+.80q holds the capital %U", s, got, r)
		}
	}
	if utf8.ValidString(s) {
		// A keyboard may send "ή" as one code point or as η and an accent.
		for name, form := range map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD} {
			if other := locales.Fold(form.String(s)); other != got {
				t.Errorf("Fold(%+.80q) = %+.80q, but Fold of its %s %+.80q = %+.80q; want the same", s, got, name, form.String(s), other)
			}
		}
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
