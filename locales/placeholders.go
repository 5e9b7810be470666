package locales

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/bot/dialog"
)

// GoParams names the values that Go code gives the messages it renders itself, rather than a
// flow's "params:" (handoff/claim.go renders handoff_claimed with the counsellor's alias).
// A placeholder of such a message may use these names. TestGoParams finds the calls in the
// Go code and checks that this table names every value they give.
var GoParams = map[string][]string{
	"handoff_claimed": {"Alias"},
}

// token is something in a text that looks like a placeholder, well formed or not.
type token struct {
	text string // as written
	off  int    // byte offset in the text
	name string // the name it gives, without the dot
	ok   bool   // a well-formed {{.Name}}
	// loose: {Name} without a dot in single braces, which is a placeholder only when Name
	// is one of the message's (else it may be braces in a sentence)
	loose bool
}

var (
	nearAction = regexp.MustCompile(`\{+-?[ \t]*(\.?)[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*-?\}*`)
	// keywords of Go templates: {{if …}}, {{end}} and the like are template logic, not names.
	keywords = []string{"if", "else", "end", "range", "with", "template", "define", "block", "break",
		"continue", "nil", "and", "or", "not", "len", "index", "print", "printf", "println", "eq",
		"ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call", "slice"}
)

// tokens finds what looks like a placeholder in text: {{.Name}}, and the near misses
// {.Name}, {{Name}}, {{ .Name }, {{.Name and the like.
func tokens(text string) []token {
	var out []token
	for _, m := range nearAction.FindAllStringSubmatchIndex(text, -1) {
		raw := text[m[0]:m[1]]
		dot, name := m[3] > m[2], text[m[4]:m[5]]
		opens := len(raw) - len(strings.TrimLeft(raw, "{"))
		closes := len(raw) - len(strings.TrimRight(raw, "}"))
		if !dot && slices.Contains(keywords, name) {
			continue
		}
		if opens == 2 && closes == 0 {
			// {{.Name | printf "%d"}}: more than a name, which the template parser checks.
			rest, _, _ := strings.Cut(text[m[1]:], "{{")
			if strings.Contains(rest, "}}") {
				continue
			}
		}
		if opens == 1 && closes == 0 && !dot {
			continue // "{like this}": braces in a sentence
		}
		out = append(out, token{text: raw, off: m[0], name: name, ok: dot && opens == 2 && closes == 2,
			loose: !dot && opens == 1 && closes == 1})
	}
	return out
}

// known returns the name of names that name matches, ignoring case, or "".
func known(names []string, name string) string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// placeholderProblem says what is wrong with t in the given form of message id, which Faros
// gives the values names; it returns "" when nothing is. With exact false, a well-formed
// placeholder is wrong only when it differs from a name in case.
func placeholderProblem(id, form string, t token, names []string, exact bool) string {
	what := fmt.Sprintf("the %s of %q has %s", orText(form), id, t.text)
	fix := known(names, t.name)
	if !t.ok {
		if t.loose && fix == "" {
			return ""
		}
		if fix == "" {
			fix = t.name
		}
		return fmt.Sprintf("%s, which is not a placeholder: write {{.%s}}", what, fix)
	}
	switch {
	case slices.Contains(names, t.name):
		return ""
	case fix != "":
		return fmt.Sprintf("%s, but Faros gives this message {{.%s}}: write {{.%s}}", what, fix, fix)
	case !exact:
		return ""
	case len(names) == 0:
		return fmt.Sprintf("%s, but Faros gives this message no values: leave it out", what)
	}
	return fmt.Sprintf("%s, but Faros gives this message only %s: write one of those, or leave it out", what, braces(names))
}

func braces(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{{." + n + "}}"
	}
	return strings.Join(out, " ")
}

// checkTemplates reports near-placeholders and broken {{...}} in every language. The names a
// message may use are those of the reference language's text, of GoParams, and Count for
// plural messages; a name is reported only when it differs from one of those in case (compare
// reports other differences). It returns the messages it reported, by language.
func checkTemplates(files map[string]map[string]message, data map[string][]byte, langs []string, ref string) ([]dialog.Problem, map[string]map[string]bool) {
	var ps []dialog.Problem
	reported := map[string]map[string]bool{}
	for _, lang := range langs {
		reported[lang] = map[string]bool{}
		for _, id := range sortedIDs(files[lang]) {
			m := files[lang][id]
			names := givenNames(m, GoParams[id])
			if r, ok := files[ref][id]; ok {
				names = union(names, wellFormed(r))
			}
			for _, form := range sortedForms(m) {
				text := m.forms[form]
				found := false
				for _, t := range tokens(text) {
					if msg := placeholderProblem(id, form, t, names, false); msg != "" {
						ps = append(ps, position(lang+".yaml", data[lang], m.at[form], text, t, msg))
						found = true
					}
				}
				if _, err := template.New(id).Parse(text); err != nil && !found {
					ps = append(ps, dialog.Problem{File: lang + ".yaml", Line: m.y.Line, Col: m.y.Column,
						Msg: fmt.Sprintf("the %s of %q has a broken {{...}}: %v", orText(form), id, err)})
					found = true
				}
				reported[lang][id] = reported[lang][id] || found
			}
		}
	}
	return ps, reported
}

// CheckParams reports the placeholders that Faros does not fill in: given maps a message id to
// the names of the values the flows give it (a say node's "params:"); GoParams adds those that
// Go code gives, and a plural message always has Count. Every language is checked, the
// reference too, each problem at its file, line and column.
func (c *Catalog) CheckParams(given map[string][]string) dialog.Problems {
	var ps dialog.Problems
	for _, lang := range c.langs {
		for _, id := range sortedIDs(c.files[lang]) {
			m := c.files[lang][id]
			names := givenNames(m, union(given[id], GoParams[id]))
			for _, form := range sortedForms(m) {
				text := m.forms[form]
				for _, t := range tokens(text) {
					if msg := placeholderProblem(id, form, t, names, true); msg != "" {
						ps = append(ps, position(lang+".yaml", c.data[lang], m.at[form], text, t, msg))
					}
				}
			}
		}
	}
	slices.SortStableFunc(ps, func(a, b dialog.Problem) int {
		return strings.Compare(fmt.Sprintf("%s:%06d:%06d", a.File, a.Line, a.Col), fmt.Sprintf("%s:%06d:%06d", b.File, b.Line, b.Col))
	})
	return ps
}

// givenNames is names, with Count for a plural message (Render chooses the form by it).
func givenNames(m message, names []string) []string {
	if _, plain := m.forms[""]; !plain {
		names = union(names, []string{"Count"})
	}
	return names
}

// wellFormed lists the names of the well-formed placeholders of m.
func wellFormed(m message) []string {
	var out []string
	for _, text := range m.forms {
		for _, t := range tokens(text) {
			if t.ok {
				out = union(out, []string{t.name})
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sortedIDs(msgs map[string]message) []string {
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func sortedForms(m message) []string {
	var out []string
	for _, f := range append([]string{""}, pluralForms...) {
		if _, ok := m.forms[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// position places a problem of token t of text, the value y, at its line and column in the
// file's data: the token's own line in a block text (|), else the value's line; the column is
// where the token is written on that line, when it is found there as written.
func position(file string, data []byte, y *yaml.Node, text string, t token, msg string) dialog.Problem {
	p := dialog.Problem{File: file, Line: y.Line, Col: y.Column, Msg: msg}
	if y.Style == yaml.LiteralStyle {
		p.Line += 1 + strings.Count(text[:t.off], "\n")
	}
	lines := strings.Split(string(data), "\n")
	if p.Line-1 < len(lines) {
		if i := strings.Index(lines[p.Line-1], t.text); i >= 0 {
			p.Col = 1 + len([]rune(lines[p.Line-1][:i]))
		}
	}
	return p
}
