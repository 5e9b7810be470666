package locales

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

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
	Missing []string // reference keys it lacks
	Extra   []string // keys only it has
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
			if slices.Contains(keys[lang], id) {
				cv.Have++
			} else {
				cv.Missing = append(cv.Missing, id)
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

// IDs lists the message ids, sorted (every language has the same).
func (c *Catalog) IDs() []string {
	if len(c.langs) == 0 {
		return nil
	}
	ids := slices.Collect(maps.Keys(c.texts[c.langs[0]]))
	slices.Sort(ids)
	return ids
}
