package dialog

import (
	"slices"
	"strings"
	"unicode"
)

// MaxText is the most characters (runes) of typed text the engine reads; the rest is
// ignored. It is Telegram's limit on one message, and it bounds the work a message costs.
const MaxText = 4096

// Signals is what typed text calls for, wherever the conversation is: the words of the help,
// emergency and duress triggers (triggers.yaml), of any language, as whole words.
type Signals struct{ Help, Emergency, Duress bool }

// Signals reports the trigger words typed text holds, folding it once. The host reads it
// while a person talks to an operator, to alert the operator to a call for help; Step reads
// the same words to choose a flow. "help me" holds the help word and an emergency phrase:
// both are reported, and Step gives the emergency precedence.
func (e *Engine) Signals(text string) Signals { return e.signals(e.lex.Fold(clip(text))) }

func (e *Engine) signals(folded string) Signals {
	return e.triggerWords.in(strings.FieldsFunc(folded, isSeparator))
}

// wordIndex holds the trigger phrases, folded and split into words, under their first word:
// matching costs one map lookup per word of the text, however many phrases the languages
// have (a hundred today), rather than a try of every phrase at every word of a message that
// may hold thousands.
type wordIndex map[string][]phrase

type phrase struct {
	rest []string // the words after the first
	sig  Signals  // what the phrase calls for
}

// add indexes one phrase; a phrase that several languages share is kept once.
func (idx wordIndex) add(words []string, sig Signals) {
	p := phrase{rest: words[1:], sig: sig}
	for _, q := range idx[words[0]] {
		if q.sig == p.sig && slices.Equal(q.rest, p.rest) {
			return
		}
	}
	idx[words[0]] = append(idx[words[0]], p)
}

// in reports what the phrases found among words call for.
func (idx wordIndex) in(words []string) Signals {
	var s Signals
	for i, w := range words {
		for _, p := range idx[w] {
			if len(p.rest) <= len(words)-i-1 && slices.Equal(words[i+1:i+1+len(p.rest)], p.rest) {
				s.Help = s.Help || p.sig.Help
				s.Emergency = s.Emergency || p.sig.Emergency
				s.Duress = s.Duress || p.sig.Duress
			}
		}
	}
	return s
}

// isSeparator splits folded text into words: anything but letters, digits and marks
// separates. Marks belong to their word: Bengali's vowel signs, for one, are spacing marks
// between the letters of a word, and splitting there would make বাঁচান ("save") match
// বেচেন ("you sell").
func isSeparator(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
}

// clip returns the first MaxText characters of s (an invalid byte counts as one).
func clip(s string) string { return Prefix(s, MaxText) }

// Prefix is the first n characters of s (an invalid byte counts as one).
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
