// Package yamlpos reads YAML that people write by hand: the flows, the message files and the
// roster. Every problem it reports names the file, line and column to open, in plain words
// (never a YAML tag or a Go type), and it reports them all at once, so that an editor fixes a
// file in one pass. The parser is go.yaml.in/yaml/v3; this package owns what it says.
package yamlpos

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a file, at a place an editor can open. Line 0 means the
// file as a whole, and File "" the content as a whole.
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

// At is the problem of node n of file (nil: of the whole file).
func At(file string, n *yaml.Node, format string, args ...any) Problem {
	p := Problem{File: file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	return p
}

// String is "file:line:column: message", the form editors and their editors jump to.
func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.File != "":
		return p.File + ": " + p.Msg
	}
	return p.Msg
}

// Problems is every problem found at once. It is an error, one problem per line.
type Problems []Problem

func (ps Problems) Error() string { return strings.Join(ps.Strings(), "\n") }

// Strings returns the problems one per line, as "file:line:column: message".
func (ps Problems) Strings() []string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return lines
}

// In returns the problems with their files named under dir, as an editor finds them:
// "flows/screening.yaml".
func (ps Problems) In(dir string) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		if p.File != "" {
			p.File = path.Join(dir, p.File)
		}
		out[i] = p
	}
	return out
}

// Sort puts the problems in file, line and column order; problems at one place keep theirs.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}

// Parse reads the one YAML document of data and returns its top node. A syntax error is
// reported at the line that is wrong (see syntax), and a file with nothing in it, or only a
// null, as empty.
func Parse(file string, data []byte) (*yaml.Node, Problems) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{syntax(file, data, err)}
	}
	if len(doc.Content) == 0 {
		return nil, Problems{{File: file, Msg: "the file is empty"}}
	}
	if top := doc.Content[0]; top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, Problems{At(file, top, "the file is empty")}
	}
	return doc.Content[0], nil
}

// syntax reports err, the YAML syntax error of data, at the line that is wrong. The parser
// names the line where the mapping it was reading began (often the top of the file), not the
// line it could not read; and it has no error type, only "yaml: line N: what". A document is
// read from its top, so a beginning of it that holds the wrong line fails to parse however it
// goes on, and a beginning that stops before it parses: the wrong line is the one after the
// longest beginning that parses.
func syntax(file string, data []byte, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: file, Msg: "YAML syntax: " + msg}
	rest, ok := strings.CutPrefix(msg, "line ")
	num, what, ok2 := strings.Cut(rest, ": ")
	line, err2 := strconv.Atoi(num)
	if !ok || !ok2 || err2 != nil {
		return p
	}
	p.Line, p.Col, p.Msg = line, 1, "YAML syntax: "+what
	// Each try parses a beginning of the file, so a long file costs its length squared.
	if lines := strings.SplitAfter(string(data), "\n"); len(lines) <= 5000 {
		for n := len(lines) - 1; n >= 0; n-- {
			var doc yaml.Node
			if yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &doc) == nil {
				p.Line = n + 1
				p.Col = 1 + len([]rune(lines[n])) - len([]rune(strings.TrimLeft(lines[n], " ")))
				break
			}
		}
	}
	switch what {
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

// Keyed returns the values of mapping n by key, and the key nodes (for positions), following
// aliases. A key written twice keeps its first value (Decode reports the second). For any
// other node, both maps are empty.
func Keyed(n *yaml.Node) (values, keys map[string]*yaml.Node) {
	values, keys = map[string]*yaml.Node{}, map[string]*yaml.Node{}
	n = follow(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return values, keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if keys[k.Value] == nil {
			values[k.Value], keys[k.Value] = follow(n.Content[i+1]), k
		}
	}
	return values, keys
}

// Items returns the items of sequence n, following aliases; nil for any other node.
func Items(n *yaml.Node) []*yaml.Node {
	n = follow(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		out[i] = follow(it)
	}
	return out
}

// follow returns the node an alias (*name) stands for, or n itself.
func follow(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// DidYouMean returns ` (did you mean "x"?)` for the word of known nearest to word, when it is
// near enough to be a slip of the keyboard (two slips at most), else "".
func DidYouMean(word string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the number of letters to add, remove, change or swap with the next one to turn
// a into b (optimal string alignment): "nmae" is one slip from "name".
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
