package auth

// Which passwords are refused at enrolment: fewer than 12 characters or more than 128, and
// those guessed first: common words and names with digits and signs around them, runs along
// a keyboard or the alphabet, a few characters repeated, the operator's own id. The one-time
// code and the lock-out after five failures do the rest; a long list of leaked passwords
// would add little to them.

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// common are words that guessing starts with, once digits, signs and spaces are taken away
// (lower case; Greek without accents).
var common = []string{
	"password", "passw0rd", "pass", "qwerty", "letmein", "welcome", "iloveyou", "admin",
	"administrator", "monkey", "dragon", "football", "princess", "sunshine", "whatever",
	"trustno", "master", "secret", "changeme", "login", "hello", "love", "test", "user",
	"faros", "pharos", "ekka", "desk", "counsellor", "counselor", "greece", "hellas", "athens",
	"athina", "thessaloniki", "olympiakos", "panathinaikos", "paok", "aek",
	"κωδικος", "συνθηματικο", "αγαπη", "ελλαδα", "αθηνα", "θεσσαλονικη", "φαρος", "εκκα",
	"καλημερα", "γεια", "χρονια",
}

// rows are keyboard rows and alphabets: a password that is a run along one is refused.
var rows = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz",
	"ςερτυθιοπ", "ασδφγηξκλ", "ζχψωβνμ", "αβγδεζηθικλμνξοπρστυφχψω",
	"qazwsxedcrfvtgbyhnujmikolp", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
}

// weakPassword returns why pw is refused for the operator op, or "".
func weakPassword(pw, op string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < 12:
		return msgPwShort
	case n > 128:
		return msgPwLong
	}
	lower := strings.ToLower(unaccent(pw))
	if repetitive(lower) {
		return msgPwCommon
	}
	core := letters(lower)
	// "P@ssw0rd-2026": signs and digits around a word, and a few in it standing for letters.
	leet := letters(strings.Map(func(r rune) rune {
		if to, ok := leetspeak[r]; ok {
			return to
		}
		return r
	}, strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })))
	if core == "" || slices.Contains(common, core) || slices.Contains(common, leet) || repetitive(core) || alongRow(core) || alongRow(lower) {
		return msgPwCommon
	}
	if id := strings.ToLower(op); len(id) >= 3 && (core == id || lower == id || strings.Contains(lower, id) && utf8.RuneCountInString(lower)-utf8.RuneCountInString(id) < 6) {
		return msgPwCommon
	}
	return ""
}

var leetspeak = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i'}

// letters keeps the letters of s.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}

// repetitive reports few distinct characters, or a short pattern over and over
// ("abcabcabcabc").
func repetitive(s string) bool {
	r := []rune(s)
	distinct := map[rune]bool{}
	for _, c := range r {
		distinct[c] = true
	}
	if len(distinct) < 5 {
		return true
	}
	for p := 1; p <= len(r)/2; p++ {
		same := true
		for i := p; i < len(r) && same; i++ {
			same = r[i] == r[i-p]
		}
		if same {
			return true
		}
	}
	return false
}

// alongRow reports a run along a keyboard row or an alphabet, either way ("0987654321").
func alongRow(s string) bool {
	if utf8.RuneCountInString(s) < 4 {
		return false
	}
	rev := []rune(s)
	slices.Reverse(rev)
	for _, row := range rows {
		if strings.Contains(row, s) || strings.Contains(row, string(rev)) {
			return true
		}
	}
	return false
}

// unaccent takes the Greek accents and diaereses away, so "Καλημέρα" is "καλημερα".
func unaccent(s string) string {
	return strings.Map(func(r rune) rune {
		if to, ok := accents[r]; ok {
			return to
		}
		return r
	}, s)
}

var accents = map[rune]rune{
	'ά': 'α', 'έ': 'ε', 'ή': 'η', 'ί': 'ι', 'ό': 'ο', 'ύ': 'υ', 'ώ': 'ω', 'ϊ': 'ι', 'ϋ': 'υ', 'ΐ': 'ι', 'ΰ': 'υ',
	'Ά': 'Α', 'Έ': 'Ε', 'Ή': 'Η', 'Ί': 'Ι', 'Ό': 'Ο', 'Ύ': 'Υ', 'Ώ': 'Ω', 'Ϊ': 'Ι', 'Ϋ': 'Υ',
}
