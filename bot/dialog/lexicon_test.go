package dialog_test

import (
	"strings"

	"github.com/faros-project/faros/bot/dialog"
)

// words is a Lexicon for tests: two languages whose messages are their ids, in upper case
// for French, except where a test says otherwise. Folding is lower-casing.
type words struct {
	langs []string
	texts map[string]map[string]string
}

var _ dialog.Lexicon = words{}

func newWords(ids ...string) words {
	w := words{langs: []string{"en", "fr"}, texts: map[string]map[string]string{"en": {}, "fr": {}}}
	for _, id := range append(ids, baseMessages...) {
		w.texts["en"][id] = id
		w.texts["fr"][id] = strings.ToUpper(id)
	}
	w.texts["en"]["ln"], w.texts["fr"]["ln"] = "English", "Français" // two languages, two names
	return w
}

var baseMessages = []string{"kw", "kw2", "kw3", "nu", "od", "rs", "ln", "lv", "m_q", "m_yes", "m_no", "m_done", "m_x"}

func (w words) Languages() []string { return w.langs }
func (w words) Text(lang, id string) (string, bool) {
	t, ok := w.texts[lang][id]
	return t, ok
}
func (w words) Fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
