package dialog

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The documents as written in YAML. Their yaml tags are the flow format; strict() checks a
// parsed file against them before anything is decoded, so that every unknown key and every
// value of the wrong type is reported with its line and column.

type triggersDoc struct {
	Entry     string            `yaml:"entry"`
	Home      string            `yaml:"home"`
	Commands  map[string]string `yaml:"commands"`
	Emergency keywordsDoc       `yaml:"emergency"`
	Duress    keywordsDoc       `yaml:"duress"`
	Help      keywordsDoc       `yaml:"help"`
	// Indicators lists the indicator codes questions may name, each with its kind and its
	// names for counsellors; when it is given, every code must be in it.
	Indicators map[string]indicatorInfoDoc `yaml:"indicators"`
	Messages   struct {
		NotUnderstood string `yaml:"not_understood"`
		Outdated      string `yaml:"outdated"`
		Restarted     string `yaml:"restarted"`
		LanguageName  string `yaml:"language_name"`
		Leave         string `yaml:"leave"`
	} `yaml:"messages"`
}

// keywordsDoc names a message listing typed words, and the flow they open.
type keywordsDoc struct {
	Keywords string `yaml:"keywords"`
	Flow     string `yaml:"flow"`
}

type flowDoc struct {
	ID    string             `yaml:"id"`
	Start string             `yaml:"start"`
	Nodes map[string]nodeDoc `yaml:"nodes"`
}

// jumpDoc is a transition: to a node of the same flow, to another flow, or an end.
type jumpDoc struct {
	Next string `yaml:"next"`
	Goto string `yaml:"goto"` // "flow" (its start) or "flow.node"
	End  string `yaml:"end"`  // stop, wipe, resume or wait
}

type nodeDoc struct {
	Say       string            `yaml:"say"`
	Ask       string            `yaml:"ask"`
	Params    map[string]string `yaml:"params"`
	Choices   []choiceDoc       `yaml:"choices"`
	Languages bool              `yaml:"languages"`
	Text      *jumpDoc          `yaml:"text"`
	Secret    bool              `yaml:"secret"`
	Indicator *indicatorDoc     `yaml:"indicator"`
	Brief     string            `yaml:"brief"` // a question's few words for the counsellors' packet, in Greek
	Branch    []caseDoc         `yaml:"branch"`
	Handoff   *handoffDoc       `yaml:"handoff"`
	Set       []string          `yaml:"set"`
	Tier      int               `yaml:"tier"`
	Reason    string            `yaml:"reason"`
	jumpDoc   `yaml:",inline"`
}

type choiceDoc struct {
	ID      string   `yaml:"id"`
	Label   string   `yaml:"label"`
	Set     []string `yaml:"set"`
	jumpDoc `yaml:",inline"`
}

type caseDoc struct {
	When    string `yaml:"when"`
	Else    bool   `yaml:"else"`
	jumpDoc `yaml:",inline"`
}

type indicatorDoc struct {
	Code     string `yaml:"code"`
	Class    string `yaml:"class"`
	Weight   int    `yaml:"weight"`
	Positive string `yaml:"positive"`
}

// indicatorInfoDoc is one entry of triggers.yaml's indicators.
type indicatorInfoDoc struct {
	Kind string `yaml:"kind"` // labour, sexual or other: the likely form of exploitation it points to
	El   string `yaml:"el"`   // its name for counsellors, in Greek
	En   string `yaml:"en"`   // and in English
}

type handoffDoc struct {
	Tier   int    `yaml:"tier"`
	Reason string `yaml:"reason"`
}

// parseYAML reads one YAML document, reporting a syntax error at its line.
func parseYAML(file string, data []byte) (*yaml.Node, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Problem{SyntaxProblem(file, data, err)}
	}
	if len(doc.Content) == 0 {
		return nil, []Problem{{File: file, Msg: "the file is empty"}}
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxProblem reports err, the YAML syntax error of data, at the line that is wrong. The
// parser names the line where the mapping it was reading began (often the top of the file),
// not the line it could not read. A YAML document is read from its top, so a beginning of it
// that holds the wrong line fails to parse however it goes on, and a beginning that stops
// before it parses: the wrong line is the one after the longest beginning that parses.
func SyntaxProblem(file string, data []byte, err error) Problem {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return Problem{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	p := Problem{File: file, Line: line, Col: 1, Msg: "YAML syntax: " + m[2]}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 5000 {
		return p
	}
	for n := len(lines) - 1; n >= 0; n-- {
		var doc yaml.Node
		if yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &doc) == nil {
			text := lines[n]
			p.Line = n + 1
			p.Col = 1 + len([]rune(text)) - len([]rune(strings.TrimLeft(text, " ")))
			break
		}
	}
	switch m[2] {
	case "did not find expected key", "did not find expected '-' indicator",
		"mapping values are not allowed in this context", "block sequence entries are not allowed in this context":
		p.Msg += ": this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)"
	case "found unexpected end of stream":
		p.Msg += ": is a quote opened on this line never closed?"
	case "found character that cannot start any token":
		p.Msg += " (a tab? indent with spaces only)"
	}
	return p
}

// strict checks n against the Go type t (a *Doc type): unknown or repeated keys, and values of
// the wrong shape or type. It reports every problem it finds, in file order.
func strict(file string, n *yaml.Node, t reflect.Type) []Problem {
	var ps []Problem
	var walk func(n *yaml.Node, t reflect.Type, what string)
	bad := func(n *yaml.Node, format string, args ...any) {
		ps = append(ps, Problem{File: file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
	}
	walk = func(n *yaml.Node, t reflect.Type, what string) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			if n.Kind != yaml.MappingNode {
				bad(n, "%s must be a set of keys and values", what)
				return
			}
			fields := yamlFields(t)
			seen := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				f, ok := fields[k.Value]
				switch {
				case seen[k.Value] != nil:
					bad(k, "%s", Duplicate(k.Value, seen[k.Value]))
				case !ok:
					bad(k, "unknown key %q%s", k.Value, suggest(k.Value, fields))
				default:
					walk(v, f.Type, fmt.Sprintf("%q", k.Value))
				}
				if seen[k.Value] == nil {
					seen[k.Value] = k
				}
			}
		case reflect.Map:
			if n.Kind != yaml.MappingNode {
				bad(n, "%s must be a set of keys and values", what)
				return
			}
			seen := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if first := seen[k.Value]; first != nil {
					bad(k, "%s", Duplicate(k.Value, first))
				} else {
					seen[k.Value] = k
				}
				walk(v, t.Elem(), fmt.Sprintf("%q", k.Value))
			}
		case reflect.Slice:
			if n.Kind != yaml.SequenceNode {
				bad(n, "%s must be a list", what)
				return
			}
			for _, item := range n.Content {
				walk(item, t.Elem(), "each item of "+what)
			}
		case reflect.String:
			if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
				bad(n, "%s must be a single word or text", what)
			}
		case reflect.Int:
			if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
				bad(n, "%s must be a whole number", what)
			}
		case reflect.Bool:
			if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
				bad(n, "%s must be true or false", what)
			}
		}
	}
	walk(n, t, "the file")
	return ps
}

// Duplicate is the problem of a key written a second time, first written at first.
func Duplicate(key string, first *yaml.Node) string {
	return fmt.Sprintf("the key %q is already defined on line %d: keep one of the two", key, first.Line)
}

// yamlFields maps the yaml keys of struct t to their fields, flattening inline structs.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name != "" && name != "-" {
			fields[name] = f
		}
	}
	return fields
}

// suggest names the known key closest to a misspelt one, if one is close.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if distance(key, k) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// keyed returns the value nodes of mapping n by key, and the key nodes, for positions.
func keyed(n *yaml.Node) (values, keys map[string]*yaml.Node) {
	values, keys = map[string]*yaml.Node{}, map[string]*yaml.Node{}
	if n == nil {
		return values, keys
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return values, keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		values[k.Value], keys[k.Value] = v, k
	}
	return values, keys
}

// items returns the items of sequence n, following an alias.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		if it.Kind == yaml.AliasNode {
			it = it.Alias
		}
		out[i] = it
	}
	return out
}
