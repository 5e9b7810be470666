package locales

import (
	"fmt"
	"testing"
)

// Render without parameters renders each text once and keeps it: what it returns is what
// go-i18n renders, first and later, in every language, and ids the files do not hold (which a
// caller might make up) are rendered but not kept.
func TestRenderKeepsTextsWithoutParameters(t *testing.T) {
	c, err := Load(Files)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range c.Languages() {
		for id := range c.texts[lang] {
			want := c.render(lang, id, nil)
			for range 2 {
				if got := c.Render(lang, id, nil); got != want {
					t.Fatalf("Render(%s, %s) = %q; want %q", lang, id, got, want)
				}
			}
		}
	}
	kept := 0
	c.plain.Range(func(any, any) bool { kept++; return true })
	for i := range 1000 {
		if got := c.Render("en", fmt.Sprint("made_up_", i), nil); got != fmt.Sprint("[made_up_", i, "]") {
			t.Fatalf("a made-up id rendered as %q", got)
		}
	}
	after := 0
	c.plain.Range(func(any, any) bool { after++; return true })
	if after != kept {
		t.Errorf("made-up ids were kept: %d texts before, %d after", kept, after)
	}
	if o := c.InOrder([]string{"el"}); o.Render("fr", "choice_leave", nil) != c.render("fr", "choice_leave", nil) {
		t.Error("a catalog in another order renders another text")
	}
}

func BenchmarkRenderButton(b *testing.B) {
	c, err := Load(Files)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("go-i18n", func(b *testing.B) { // as every call was before texts were kept
		b.ReportAllocs()
		for b.Loop() {
			c.render("el", "choice_leave", nil)
		}
	})
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Render("el", "choice_leave", nil)
		}
	})
}
