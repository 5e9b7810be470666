package dialog_test

import (
	"slices"
	"testing"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/locales"
)

// The benchmarks measure steps of the shipped content, the work Faros really does (the
// README's performance table), unlike the tests, which run on the fixture. They find their
// way by what the engine asks (Calm, Screening), never by a node id, so that no content
// change breaks them.

// shipped loads the shipped content.
func shipped(b *testing.B) (*dialog.Engine, *locales.Catalog) {
	b.Helper()
	cat, err := locales.Load(locales.Files)
	if err != nil {
		b.Fatalf("locales: %v", err)
	}
	e, err := dialog.Load(flows.Files, cat)
	if err != nil {
		b.Fatalf("flows: %v", err)
	}
	return e, cat
}

// benchLang is the language of the benchmarks: Greek, the most accented, if shipped.
func benchLang(cat *locales.Catalog) string {
	if slices.Contains(cat.Languages(), "el") {
		return "el"
	}
	return cat.Languages()[0]
}

// screeningSteps starts a conversation in lang and answers every question calmly (the
// language question with lang) until the screening ends; it returns the state waiting at each
// screening question and the outputs that asked it, in order.
func screeningSteps(b *testing.B, e *dialog.Engine, lang string) ([]dialog.State, []dialog.Output) {
	b.Helper()
	calm := e.Calm()
	s, outs := steps(b, e, dialog.State{}, dialog.Input{Command: "start"})
	var states []dialog.State
	var asks []dialog.Output
	for range 200 {
		q := outs[len(outs)-1]
		screening := slices.Contains(e.Screening(), nodeID(q.Question))
		if screening {
			states, asks = append(states, s), append(asks, q)
		} else if len(asks) > 0 {
			return states, asks
		}
		in := dialog.Input{Choice: calm[q.Question], Question: q.Question}
		if len(q.Choices) > 0 && q.Choices[0].Lang != "" {
			in.Choice = lang
		}
		if in.Choice == "" || q.Kind != dialog.Ask {
			b.Fatalf("no calm answer to %v before the screening", kinds(outs))
		}
		s, outs = steps(b, e, s, in)
	}
	b.Fatal("the screening asks more than 200 questions")
	return nil, nil
}

// BenchmarkStep answers one screening question with a button: the common step.
func BenchmarkStep(b *testing.B) {
	e, cat := shipped(b)
	states, asks := screeningSteps(b, e, benchLang(cat))
	s, in := states[len(states)/2], dialog.Input{Choice: e.Calm()[asks[len(asks)/2].Question], Question: asks[len(asks)/2].Question}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepTriage answers the last question: the triage conditions run (with calm answers,
// every one of them).
func BenchmarkStepTriage(b *testing.B) {
	e, cat := shipped(b)
	states, asks := screeningSteps(b, e, benchLang(cat))
	last := asks[len(asks)-1]
	s, in := states[len(states)-1], dialog.Input{Choice: e.Calm()[last.Question], Question: last.Question}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepTyped types an answer's label: folding and label matching run.
func BenchmarkStepTyped(b *testing.B) {
	e, cat := shipped(b)
	lang := benchLang(cat)
	states, asks := screeningSteps(b, e, lang)
	q := asks[len(asks)/2]
	i := slices.IndexFunc(q.Choices, func(c dialog.Choice) bool { return c.ID == e.Calm()[q.Question] })
	label, _ := cat.Text(lang, q.Choices[i].Label)
	s, in := states[len(states)/2], dialog.Input{Text: label}
	if got, _ := steps(b, e, s, in); got.Answers[nodeID(q.Question)] != q.Choices[i].ID {
		b.Fatalf("typing %q did not answer %s", label, q.Question)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepLongText types a whole message, MaxText characters, at a screening question:
// a plain one, Greek with its accents, and the costliest found. What costs is folding, and a
// character can decompose into many (U+FDFA into 18 runes, four words): Fold reads only as
// far as locales.MaxFold runes of decomposition, so that no message costs much more than a
// plain one (goal: at most twice).
func BenchmarkStepLongText(b *testing.B) {
	e, cat := shipped(b)
	states, _ := screeningSteps(b, e, benchLang(cat))
	s := states[len(states)/2]
	for _, bm := range []struct{ name, text string }{
		{"plain Greek", "Δουλεύω πολλές ώρες κάθε μέρα και δεν μου δίνουν τα χρήματα που μου υποσχέθηκαν. "},
		{"U+FDFA", "\uFDFA"},                   // an Arabic ligature: 18 runes, 4 words
		{"U+3300", "\u3300\u3301\u3302\u3303"}, // squared katakana words: 4-6 runes with marks
		{"U+337F", "\u337F"},                   // a squared era name: 4 CJK ideographs
		{"Hangul", "한국어"},                      // syllables of 2-3 jamo each
		{"U+2474", "\u2474"},                   // parenthesised digits: 3 runes, a word each
	} {
		text := repeatRunes(bm.text, dialog.MaxText)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.Step(s, dialog.Input{Text: text}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatRunes repeats s to n runes.
func repeatRunes(s string, n int) string {
	rs := []rune(s)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[i%len(rs)]
	}
	return string(out)
}

// BenchmarkLoad reads and checks all shipped content: locales and flows.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cat, err := locales.Load(locales.Files)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dialog.Load(flows.Files, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepFixture answers a question of the fixture, the engine alone: beside
// BenchmarkStep, it shows what the shipped content adds.
func BenchmarkStepFixture(b *testing.B) {
	e := fixture(b)
	s, _ := atFixtureQuestion(b, e, "el", "lies")
	in := dialog.Input{Choice: "no"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Step(s, in); err != nil {
			b.Fatal(err)
		}
	}
}
