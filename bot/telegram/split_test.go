package telegram

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	word := strings.Repeat("a", 9) + " " // 10 units
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"short", "hello", 10, []string{"hello"}},
		{"exactly the limit", "0123456789", 10, []string{"0123456789"}},
		{"at the last line break", "one two\nthree four", 12, []string{"one two", "three four"}},
		{"a line break wins over a later space", "ab\ncd ef gh", 9, []string{"ab", "cd ef gh"}},
		{"at the last space", "one two three", 10, []string{"one two", "three"}},
		{"a break right at the limit", "abc\ndef", 3, []string{"abc", "def"}},
		{"anywhere without a break", "abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"several parts", strings.Repeat(word, 3), 20, []string{word + word[:9], word}},
		{"Greek counts one unit a letter", "αβγδε ζηθ", 5, []string{"αβγδε", "ζηθ"}},
		{"an emoji counts two units", "😀😀😀", 4, []string{"😀😀", "😀"}},
		{"an emoji is not cut in half", "a😀", 2, []string{"a", "😀"}},
		{"empty", "", 10, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.text, tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("split(%q, %d) (-want +got):\n%s", tt.text, tt.max, diff)
			}
		})
	}
}

func TestSplitTelegramLimit(t *testing.T) {
	// 2,000 emoji and 200 words: 4,000 + 2,000 UTF-16 units, more than 4,096.
	text := strings.Repeat("😀", 2000) + strings.Repeat(" word", 400)
	parts := split(text, maxText)
	if len(parts) != 2 {
		t.Fatalf("got %d parts; want 2", len(parts))
	}
	for i, p := range parts {
		if n := len(utf16.Encode([]rune(p))); n > maxText {
			t.Errorf("part %d has %d UTF-16 units; want at most %d", i, n, maxText)
		}
	}
	if got, want := strings.Join(parts, " "), text; got != want {
		t.Errorf("the parts joined at the cut do not give back the text")
	}
}
