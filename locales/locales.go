// Package locales holds Faros' messages in every language and the rules for matching what
// people type: it loads the go-i18n message files (one per language, named after it), checks
// them against each other, renders messages with plural forms, picks a language from a
// Telegram language_code or an Accept-Language header, and folds text for comparison.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/internal/yamlpos"
)

// Files is the shipped content: one message file per language (el.yaml, en.yaml…).
//
//go:embed *.yaml
var Files embed.FS

// Reference is the language the others are compared with: the master text.
const Reference = "en"

// Catalog is a loaded, checked set of message files. It is immutable and safe for concurrent
// use. It implements dialog.Lexicon.
type Catalog struct {
	langs   []string                      // by file name, or in the order InOrder gave
	texts   map[string]map[string]string  // lang → id → text ("other" form of plurals)
	files   map[string]map[string]message // lang → id → message as read, for CheckParams
	data    map[string][]byte             // lang → the file, for positions
	loc     map[string]*i18n.Localizer
	rtl     map[string]bool // the languages written right to left
	matcher language.Matcher
	plain   *sync.Map // [2]string{lang, id} → Render's text without parameters, once rendered
}

var _ dialog.Lexicon = (*Catalog)(nil)

// message is one key of one file, as read for the checks.
type message struct {
	forms map[string]string     // "" for a plain string, else plural categories
	at    map[string]*yaml.Node // the value of each form, for positions
	y     *yaml.Node
}

var (
	messageID    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	pluralForms  = []string{"zero", "one", "two", "few", "many", "other"}
	placeholders = regexp.MustCompile(`\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)`)
)

// Load reads every *.yaml file of fsys as the messages of the language its name gives
// ("el.yaml" is Greek), checks them, and returns the Catalog, or with dialog.Problems listing
// everything found wrong. With problems, the Catalog holds what could be read, so that flows
// can still be checked against it; it must not serve people.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var probs dialog.Problems
	files := map[string]map[string]message{}
	data := map[string][]byte{}
	c := &Catalog{texts: map[string]map[string]string{}, loc: map[string]*i18n.Localizer{}, rtl: map[string]bool{}, files: files, data: data, plain: &sync.Map{}}
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	var tags []language.Tag
	for _, name := range names {
		lang := strings.TrimSuffix(name, ".yaml")
		tag, err := language.Parse(lang)
		if err != nil || tag.String() != lang {
			probs = append(probs, dialog.Problem{File: name, Msg: "the file name must be a language code, such as el.yaml or sq.yaml"})
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		msgs, ps := readFile(name, b)
		probs = append(probs, ps...)
		if len(ps) > 0 {
			continue
		}
		c.langs = append(c.langs, lang)
		tags = append(tags, tag)
		files[lang], data[lang] = msgs, b
	}
	if len(c.langs) == 0 && len(probs) == 0 {
		probs = append(probs, dialog.Problem{File: ".", Msg: "no message files: add one per language, such as en.yaml"})
	}
	ref := Reference
	if !slices.Contains(c.langs, ref) && len(c.langs) > 0 {
		ref = c.langs[0]
	}
	tps, reported := checkTemplates(files, data, c.langs, ref)
	probs = append(probs, tps...)
	probs = append(probs, compare(files, c.langs, reported)...)
	for _, lang := range c.langs {
		if _, err := bundle.ParseMessageFileBytes(data[lang], lang+".yaml"); err != nil {
			probs = append(probs, dialog.Problem{File: lang + ".yaml", Msg: err.Error()})
			continue
		}
		c.loc[lang] = i18n.NewLocalizer(bundle, lang)
		c.rtl[lang] = rightToLeft(lang)
		c.texts[lang] = map[string]string{}
		for id, m := range files[lang] {
			c.texts[lang][id] = m.forms[""] + m.forms["other"]
		}
	}
	if len(probs) == 0 {
		probs = append(probs, c.checkPlurals(files)...)
	}
	c.matcher = language.NewMatcher(tags)
	if len(probs) > 0 {
		probs.Sort()
		return c, probs
	}
	return c, nil
}

// readFile reads one message file: flat keys, each a text or a map of plural forms.
func readFile(file string, b []byte) (map[string]message, []dialog.Problem) {
	top, ps := yamlpos.Parse(file, b)
	if ps != nil {
		return nil, ps
	}
	if top.Kind != yaml.MappingNode {
		return nil, []dialog.Problem{yamlpos.At(file, top, "the file must be a list of keys, one message each")}
	}
	ps = yamlpos.Decode(file, top, &map[string]yaml.Node{}) // reports a key written twice
	bad := func(y *yaml.Node, format string, args ...any) { ps = append(ps, yamlpos.At(file, y, format, args...)) }
	_, keys := yamlpos.Keyed(top)
	msgs := map[string]message{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if keys[k.Value] != k {
			continue // written twice
		}
		if !messageID.MatchString(k.Value) {
			bad(k, "the key %q must be lower-case letters, digits and _", k.Value)
			continue
		}
		m := message{forms: map[string]string{}, at: map[string]*yaml.Node{}, y: k}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
			m.forms[""], m.at[""] = v.Value, v
		case v.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				fk, fv := v.Content[j], v.Content[j+1]
				switch {
				case !slices.Contains(pluralForms, fk.Value):
					bad(fk, "%q is not a plural form: use %s", fk.Value, strings.Join(pluralForms, ", "))
				case fv.Kind != yaml.ScalarNode || fv.Tag != "!!str":
					bad(fv, "the %q form of %q must be a text", fk.Value, k.Value)
				default:
					m.forms[fk.Value], m.at[fk.Value] = fv.Value, fv
				}
			}
			if _, ok := m.forms["other"]; !ok {
				bad(k, "the message %q has plural forms but no \"other\" form", k.Value)
			}
		default:
			bad(v, "the message %q must be a text (in quotes if it has a colon) or plural forms", k.Value)
			continue
		}
		msgs[k.Value] = m
	}
	return msgs, ps
}

func orText(form string) string {
	if form == "" {
		return "text"
	}
	return fmt.Sprintf("%q form", form)
}

// compare reports keys that some languages lack and placeholders that differ, except in the
// messages whose placeholders are already reported.
func compare(files map[string]map[string]message, langs []string, reported map[string]map[string]bool) []dialog.Problem {
	var ps []dialog.Problem
	ref := Reference
	if !slices.Contains(langs, ref) && len(langs) > 0 {
		ref = langs[0]
	}
	var all []string
	for _, lang := range langs {
		for id := range files[lang] {
			if !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
	}
	slices.Sort(all)
	for _, id := range all {
		var has, lacks []string
		for _, lang := range langs {
			if _, ok := files[lang][id]; ok {
				has = append(has, lang)
			} else {
				lacks = append(lacks, lang+".yaml")
			}
		}
		at := ref
		if !slices.Contains(has, ref) {
			at = has[0]
		}
		if len(lacks) > 0 {
			m := files[at][id]
			ps = append(ps, dialog.Problem{File: at + ".yaml", Line: m.y.Line, Col: m.y.Column,
				Msg: fmt.Sprintf("the key %q is missing from %s", id, strings.Join(lacks, ", "))})
			continue
		}
		want := names(files[ref][id])
		for _, lang := range langs {
			if reported[lang][id] || reported[ref][id] {
				continue
			}
			if got := names(files[lang][id]); lang != ref && got != want {
				m := files[lang][id]
				ps = append(ps, dialog.Problem{File: lang + ".yaml", Line: m.y.Line, Col: m.y.Column,
					Msg: fmt.Sprintf("the placeholders of %q differ: %s.yaml has %s, %s.yaml has %s", id, ref, orNone(want), lang, orNone(got))})
			}
		}
	}
	return ps
}

// names lists the {{.Name}} placeholders of a message, all forms together, sorted.
func names(m message) string {
	var out []string
	for _, text := range m.forms {
		for _, match := range placeholders.FindAllStringSubmatch(text, -1) {
			if p := "{{." + match[1] + "}}"; !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkPlurals renders every plural message for the counts people will meet, so that a form
// the language's CLDR rules need but the file lacks is found now, not in a conversation.
func (c *Catalog) checkPlurals(files map[string]map[string]message) []dialog.Problem {
	var ps []dialog.Problem
	for _, lang := range c.langs {
		for id, m := range files[lang] {
			if _, plain := m.forms[""]; plain {
				continue
			}
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 100, 1000000} {
				_, err := c.loc[lang].Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: map[string]any{"Count": n}})
				if err != nil {
					ps = append(ps, dialog.Problem{File: lang + ".yaml", Line: m.y.Line, Col: m.y.Column,
						Msg: fmt.Sprintf("the message %q cannot say %d: %v", id, n, err)})
					break
				}
			}
		}
	}
	return ps
}

// InOrder is the catalog with its languages in the order of langs (the flows' order, see
// dialog.Engine.Languages); those langs does not name follow, as they were.
func (c *Catalog) InOrder(langs []string) *Catalog {
	o := *c
	o.langs = nil
	for _, lang := range append(slices.Clone(langs), c.langs...) {
		if slices.Contains(c.langs, lang) && !slices.Contains(o.langs, lang) {
			o.langs = append(o.langs, lang)
		}
	}
	tags := make([]language.Tag, len(o.langs))
	for i, lang := range o.langs {
		tags[i] = language.Make(lang)
	}
	o.matcher = language.NewMatcher(tags)
	return &o
}

// Languages lists the languages: by file name, or in the order InOrder gave them.
func (c *Catalog) Languages() []string { return c.langs }

// Text returns message id in lang, the "other" form for plural messages.
func (c *Catalog) Text(lang, id string) (string, bool) {
	t, ok := c.texts[lang][id]
	return t, ok
}

// Fold makes typed text comparable; see Fold.
func (c *Catalog) Fold(s string) string { return Fold(s) }

// Render returns message id in lang with params filled in; params["Count"] picks the plural
// form. An empty lang renders the message in every language, one per line. A message the
// catalog lacks (Load makes sure flows use none) renders as its id in brackets.
func (c *Catalog) Render(lang, id string, params map[string]any) string {
	if lang == "" {
		return c.everyLanguage(id, params, "\n")
	}
	if params != nil {
		return c.render(lang, id, params)
	}
	// Most texts (every button's) have no parameters: each is rendered once. Only the ids the
	// files hold are kept, so that the memory stays the size of the catalog.
	key := [2]string{lang, id}
	if text, ok := c.plain.Load(key); ok {
		return text.(string)
	}
	text := c.render(lang, id, nil)
	if _, ok := c.texts[lang][id]; ok {
		c.plain.Store(key, text)
	}
	return text
}

// render renders message id in lang with params through go-i18n.
func (c *Catalog) render(lang, id string, params map[string]any) string {
	loc := c.loc[lang]
	if loc == nil {
		return "[" + id + "]"
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: params}
	if n, ok := params["Count"]; ok {
		cfg.PluralCount = n
	}
	text, err := loc.Localize(cfg)
	if err != nil {
		return "[" + id + "]"
	}
	if c.rtl[lang] {
		text = commandsWhole(text)
	}
	return text
}

// everyLanguage renders id in each language, leaving out repeats, joined by sep.
func (c *Catalog) everyLanguage(id string, params map[string]any, sep string) string {
	texts := make([]string, 0, len(c.langs))
	for _, l := range c.langs {
		if t := c.Render(l, id, params); !slices.Contains(texts, t) {
			texts = append(texts, t)
		}
	}
	return strings.Join(texts, sep)
}

// Match picks the language for a Telegram language_code ("pt-br") or an Accept-Language
// header ("fr-CH, fr;q=0.9, en;q=0.8"). It returns "" when no language fits well enough:
// then the person is asked.
func (c *Catalog) Match(prefs ...string) string {
	var want []language.Tag
	for _, p := range prefs {
		tags, _, err := language.ParseAcceptLanguage(p)
		if err == nil {
			want = append(want, tags...)
		}
	}
	if len(want) == 0 || len(c.langs) == 0 {
		return ""
	}
	_, i, conf := c.matcher.Match(want...)
	if conf < language.High {
		return ""
	}
	return c.langs[i]
}

// MaxFold bounds Fold's work: it reads at most this many runes of a text's compatibility
// decomposition, and returns at most this many. One character can decompose into up to 18
// (U+FDFA), so without a bound the 4096 characters of one Telegram message (dialog.MaxText)
// could fold into some 70,000 runes and 12,000 words. One and a half times MaxText holds a
// whole message of accented letters (Greek, the most accented of our languages, decomposes
// into about 1.1 runes a character; Vietnamese into about 1.4), and keeps the costliest
// message within twice the cost of a plain one (BenchmarkStepLongText in bot/dialog).
const MaxFold = dialog.MaxText * 3 / 2

// Fold makes typed text comparable: compatibility decomposition (NFKD), combining marks and
// invisible format characters removed, case folded (final sigma too), the digits and letters
// different keyboards type for the same thing made one (sameKey), spaces collapsed. "ΒΟΗΘΕΙΑ", "βοήθεια" and
// "βοηθεια" fold to the same word. Folding twice gives what folding once gave.
//
// Only the beginning of a long text is folded: as much as decomposes into MaxFold runes
// (MaxFold plain letters, 341 characters U+FDFA); the rest is dropped.
func Fold(s string) string {
	if isASCII(s) {
		// ASCII decomposes into itself: the budget is the first MaxFold bytes.
		s = s[:min(len(s), MaxFold)]
		return strings.Join(strings.Fields(strings.ToLower(s)), " ")
	}
	// No character decomposes into nothing, so MaxFold+1 characters are more than the budget
	// holds; the one more keeps the last segment that fits whole, marks and all.
	s = dialog.Prefix(s, MaxFold+1)
	// Invalid bytes would make the normaliser skip the character after them.
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(dropMarks, decompose(s, MaxFold))
	s = strings.Map(cherokee, cases.Fold().String(s))
	s = strings.Map(sameKey, s)
	// Folding case and dropping marks can leave text that decomposes further, or marks out of
	// their canonical order: one more pass settles it.
	s = strings.Map(dropMarks, norm.NFKD.String(s))
	s = strings.Join(strings.Fields(s), " ")
	// Case folding can lengthen text (ß is ss), so the result may exceed the budget. Its
	// beginning is still folded text (a prefix of a decomposed text is decomposed), so cutting
	// it keeps Fold idempotent.
	return strings.TrimRightFunc(dialog.Prefix(s, MaxFold), unicode.IsSpace)
}

// decompose returns the NFKD form of the longest beginning of s whose decomposition holds at
// most max runes, whole segments only (a character with its marks), never more than that:
// norm.NFKD.String would decompose all of s first.
func decompose(s string, max int) string {
	var it norm.Iter
	it.InitString(norm.NFKD, s)
	out := make([]byte, 0, len(s)+len(s)/2)
	n := 0
	for !it.Done() {
		seg := it.Next()
		if n += utf8.RuneCount(seg); n > max {
			break
		}
		out = append(out, seg...)
	}
	return string(out)
}

// dropMarks drops the marks that spelling may leave out (accents, Greek tonos, Arabic
// vowel signs, Bengali's candrabindu and hasanta) and invisible format characters (a zero-width
// joiner or non-joiner inside a word, a pasted direction mark). Spacing marks, such as
// Bengali's vowel signs, are part of how a word is spelled and stay. A zero-width non-joiner
// typed between two words (a Persian keyboard's Shift+Space) joins them: rare in the
// languages served, and a word split inside would be missed more often.
func dropMarks(r rune) rune {
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// sameKey folds what different keyboards type for the same thing: the digits of the Arabic,
// Persian, Bengali and Devanagari keyboards to 0–9 (۱۱۲ and ১১২ are 112), the Arabic
// keyboard's yeh and kaf to the forms Urdu keyboards type, and the three hehs (Arabic ه, Urdu
// ہ and do-chashmi ھ, which an Arabic keyboard lacks: مجهے for مجھے) to one.
func sameKey(r rune) rune {
	for _, zero := range []rune{0x0660, 0x06F0, 0x09E6, 0x0966} {
		if r >= zero && r <= zero+9 {
			return '0' + r - zero
		}
	}
	switch r {
	case 'ي', 'ى':
		return 'ی'
	case 'ك':
		return 'ک'
	case 'ه', 'ھ':
		return 'ہ'
	}
	return r
}

// commandsWhole keeps each /command of a right-to-left text whole: in a right-to-left line its
// slash would show after its word ("help/"), so a left-to-right mark goes before it. A line
// that begins with a command first gets a right-to-left mark, or the left-to-right one would
// turn the whole line left to right.
func commandsWhole(text string) string {
	text = lineCommand.ReplaceAllString(text, "\u200f\u200e$1")
	return innerCommand.ReplaceAllString(text, "$1\u200e$2")
}

var (
	lineCommand  = regexp.MustCompile(`(?m)^(/[a-z]+)`)
	innerCommand = regexp.MustCompile(`([^\S\n])(/[a-z]+)`)
)

// rightToLeft reports whether lang is written right to left, from its usual script.
func rightToLeft(lang string) bool {
	script, _ := language.Make(lang).Script()
	switch script.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr":
		return true
	}
	return false
}

// cherokee folds Cherokee small letters to the capitals, as Unicode's case folding does;
// x/text's cases.Fold swaps them instead (golang/go#46101).
func cherokee(r rune) rune {
	if (r >= 0xAB70 && r <= 0xABBF) || (r >= 0x13F8 && r <= 0x13FD) {
		return unicode.ToUpper(r)
	}
	return r
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
