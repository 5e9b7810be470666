package locales

import (
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/faros-project/faros/bot/dialog"
)

// Button is a rendered choice: the id the engine matches, the label the person reads.
type Button struct{ ID, Label string }

// Show renders a Say or Ask output: its text and, for an Ask, its buttons.
func (c *Catalog) Show(o dialog.Output) (string, []Button) {
	text := c.Render(o.Lang, o.Msg, o.Params)
	if len(o.Choices) == 0 {
		return text, nil
	}
	buttons := make([]Button, len(o.Choices))
	for i, ch := range o.Choices {
		switch {
		case ch.Lang != "":
			buttons[i] = Button{ID: ch.ID, Label: c.Render(ch.Lang, ch.Label, nil)}
		case o.Lang == "":
			buttons[i] = Button{ID: ch.ID, Label: c.everyLanguage(ch.Label, nil, " / ")}
		default:
			buttons[i] = Button{ID: ch.ID, Label: c.Render(o.Lang, ch.Label, nil)}
		}
	}
	return text, buttons
}

// Coverage is how completely one language translates the reference language.
type Coverage struct {
	Lang    string
	Have    int      // reference keys this language has
	Total   int      // keys of the reference language
	Missing []string // reference keys it lacks, and those it leaves in the reference's words (Same)
	Extra   []string // keys only it has
	Same    []Same   // messages written as in the reference language: not translated
}

// Same is a message that a language writes exactly as the reference language does.
type Same struct {
	ID   string
	Line int    // in the language's file
	Text string // the text, or the first form that is the same
}

// Percent is the share of the reference keys the language has.
func (c Coverage) Percent() float64 {
	if c.Total == 0 {
		return 100
	}
	return 100 * float64(c.Have) / float64(c.Total)
}

// Compare reads the message files of fsys without requiring them to agree, and measures each
// language against the reference. It is what translators look at while they work; a file
// that cannot be read at all is an error.
func Compare(fsys fs.FS) ([]Coverage, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	keys := map[string][]string{}
	files := map[string]map[string]message{}
	var langs []string
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		msgs, ps := readFile(name, b)
		if msgs == nil && len(ps) > 0 {
			return nil, dialog.Problems(ps)
		}
		lang := strings.TrimSuffix(name, ".yaml")
		langs = append(langs, lang)
		files[lang] = msgs
		for id := range msgs {
			keys[lang] = append(keys[lang], id)
		}
		slices.Sort(keys[lang])
	}
	ref := Reference
	if _, ok := keys[ref]; !ok {
		if len(langs) == 0 {
			return nil, fmt.Errorf("no message files")
		}
		ref = langs[0]
	}
	var out []Coverage
	for _, lang := range langs {
		cv := Coverage{Lang: lang, Total: len(keys[ref])}
		for _, id := range keys[ref] {
			m, ok := files[lang][id]
			switch {
			case !ok:
				cv.Missing = append(cv.Missing, id)
			case lang == ref:
				cv.Have++
			default:
				if text, same := sameText(id, m, files[ref][id]); same {
					cv.Missing = append(cv.Missing, id)
					cv.Same = append(cv.Same, Same{ID: id, Line: m.y.Line, Text: text})
				} else {
					cv.Have++
				}
			}
		}
		for _, id := range keys[lang] {
			if !slices.Contains(keys[ref], id) {
				cv.Extra = append(cv.Extra, id)
			}
		}
		out = append(out, cv)
	}
	return out, nil
}

// Untranslatable are the messages that may be the same in every language: the language's own
// name and the lists of typed words (which hold the English words too).
func Untranslatable(id string) bool {
	return id == "language_name" || strings.HasPrefix(id, "keywords_")
}

var (
	url     = regexp.MustCompile(`(?i)\b(?:https?://|www\.|t\.me/)\S*`)
	command = regexp.MustCompile(`(^|\s)/[a-z_]+\b`)
	action  = regexp.MustCompile(`\{\{[^{}]*\}\}`)
)

// sameText reports whether m, a translation of the reference message ref, has a text (plain,
// or a plural form) written exactly as the reference's, and that text. A text with no words
// (only numbers, punctuation, links, commands and placeholders) and the Untranslatable
// messages may be the same.
func sameText(id string, m, ref message) (string, bool) {
	if Untranslatable(id) {
		return "", false
	}
	for _, form := range sortedForms(m) {
		text, ok := ref.forms[form]
		if !ok || text != m.forms[form] {
			continue
		}
		rest := action.ReplaceAllString(url.ReplaceAllString(text, " "), " ")
		rest = command.ReplaceAllString(rest, " ")
		if strings.IndexFunc(rest, unicode.IsLetter) >= 0 {
			return text, true
		}
	}
	return "", false
}

// IDs lists the message ids, sorted (every language has the same).
func (c *Catalog) IDs() []string {
	if len(c.langs) == 0 {
		return nil
	}
	ids := slices.Collect(maps.Keys(c.texts[c.langs[0]]))
	slices.Sort(ids)
	return ids
}
