package yamlpos_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// TestParse checks what an editor reads for a file that is not YAML: the line that is wrong
// (not the line where the parser's mapping began), with a hint for the usual slips.
func TestParse(t *testing.T) {
	const indent = ": this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)"
	tests := []struct {
		name, src string
		want      []string
	}{
		{"good", "a: 1\nb: [x, y]\n", nil},
		{"nothing", "", []string{"f.yaml: the file is empty"}},
		{"only comments", "# later\n", []string{"f.yaml: the file is empty"}},
		{"only a null", "~\n", []string{"f.yaml:1:1: the file is empty"}},
		{"a line indented too little", "a:\n  b: 1\n  c: 2\n d: 3\ne: 4\n",
			[]string{"f.yaml:4:2: YAML syntax: did not find expected key" + indent}},
		{"a line indented too much", "a: 1\n  b: 2\nc: 3\n",
			[]string{"f.yaml:2:3: YAML syntax: mapping values are not allowed in this context" + indent}},
		{"a value indented too much", "a:\n  b: 1\n    c: 2\n",
			[]string{"f.yaml:3:5: YAML syntax: mapping values are not allowed in this context" + indent}},
		{"a list item indented too little", "a:\n  - 1\n - 2\n",
			[]string{"f.yaml:3:2: YAML syntax: did not find expected key" + indent}},
		{"a quote never closed", "a: \"open\nb: 2\n",
			[]string{"f.yaml:1:1: YAML syntax: found unexpected end of stream: is a quote opened on this line never closed?"}},
		{"a tab", "a:\n\tb: 1\n",
			[]string{"f.yaml:2:1: YAML syntax: found character that cannot start any token (a tab? indent with spaces only)"}},
		{"a brace never closed", "a: 1\nb: {c: 2\nd: 3\n", // the line that opens it
			[]string{"f.yaml:2:1: YAML syntax: did not find expected ',' or '}'"}},
		{"the wrong line deep in a long file", "a:\n" + strings.Repeat("  k: v\n", 300) + "   bad: 1\n",
			[]string{"f.yaml:302:4: YAML syntax: mapping values are not allowed in this context" + indent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ps := yamlpos.Parse("f.yaml", []byte(tt.src))
			if diff := cmp.Diff(tt.want, lines(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if (n == nil) != (ps != nil) {
				t.Errorf("got node %v with problems %v; want one or the other", n, ps)
			}
		})
	}
}

type doc struct {
	Name  string            `yaml:"name"`
	Tier  int               `yaml:"tier"`
	ID    int64             `yaml:"id"`
	Max   *int              `yaml:"max"`
	On    bool              `yaml:"on"`
	Tags  []string          `yaml:"tags"`
	Names map[string]string `yaml:"names"`
	Items []item            `yaml:"items"`
	Free  yaml.Node         `yaml:"free"`
	hop   `yaml:",inline"`
}

type item struct {
	ID string `yaml:"id"`
}

type hop struct {
	Next string `yaml:"next"`
}

// TestDecode checks the problems of shape, each at its line and column, in plain words.
func TestDecode(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"good", "name: x\ntier: 2\nid: 123\nmax: 3\non: true\ntags: [a]\nnames: {el: x}\nitems: [{id: a}]\nfree: [any, {thing: 1}]\nnext: y\n", nil},
		{"a misspelt key", "nmae: x\n", []string{`f.yaml:1:1: unknown key "nmae" (did you mean "name"?)`}},
		{"a key of an inline struct", "nxt: x\n", []string{`f.yaml:1:1: unknown key "nxt" (did you mean "next"?)`}},
		{"a key far from any", "colour: red\n",
			[]string{`f.yaml:1:1: unknown key "colour" (known keys: free, id, items, max, name, names, next, on, tags, tier)`}},
		{"a key written twice", "name: x\ntier: 1\nname: y\n",
			[]string{`f.yaml:3:1: the key "name" is already defined on line 1: keep one of the two`}},
		{"a map key written twice", "names:\n  el: x\n  el: y\n",
			[]string{`f.yaml:3:3: the key "el" is already defined on line 2: keep one of the two`}},
		{"text for a number", "tier: high\n", []string{`f.yaml:1:7: "tier" must be a whole number`}},
		{"a quoted number", "id: \"123\"\n", []string{`f.yaml:1:5: "id" must be a whole number`}},
		{"a fraction", "max: 1.5\n", []string{`f.yaml:1:6: "max" must be a whole number`}},
		{"yes for true", "on: yes\n", []string{`f.yaml:1:5: "on" must be true or false`}},
		{"a list for a text", "name: [a]\n", []string{`f.yaml:1:7: "name" must be a single word or text`}},
		{"nothing for a text", "name:\n", []string{`f.yaml:1:6: "name" must be a single word or text`}},
		{"a text for a list", "tags: a\n", []string{`f.yaml:1:7: "tags" must be a list`}},
		{"a list item of the wrong shape", "tags: [a, [b]]\n", []string{`f.yaml:1:11: each item of "tags" must be a single word or text`}},
		{"a text for a mapping", "names: x\n", []string{`f.yaml:1:8: "names" must be a set of keys and values`}},
		{"an item not a mapping", "items:\n  - a\n", []string{`f.yaml:2:5: each item of "items" must be a set of keys and values`}},
		{"in an item", "items:\n  - {id: a, di: b}\n", []string{`f.yaml:2:13: unknown key "di" (did you mean "id"?)`}},
		{"the file not a mapping", "- a\n", []string{`f.yaml:1:1: the file must be a set of keys and values`}},
		{"through an alias", "names: &n {el: [x]}\nitems: [{id: a}]\nfree: *n\n", []string{`f.yaml:1:16: "el" must be a single word or text`}},
		{"every problem at once", "tier: x\nnmae: y\ntags: z\n", []string{
			`f.yaml:1:7: "tier" must be a whole number`,
			`f.yaml:2:1: unknown key "nmae" (did you mean "name"?)`,
			`f.yaml:3:7: "tags" must be a list`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ps := yamlpos.Parse("f.yaml", []byte(tt.src))
			if ps != nil {
				t.Fatalf("Parse: %v", ps)
			}
			ps = yamlpos.Decode("f.yaml", n, new(doc))
			if diff := cmp.Diff(tt.want, lines(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeKeepsWhatIsRight checks that a value of the wrong type leaves the others decoded,
// so that a caller can go on checking them.
func TestDecodeKeepsWhatIsRight(t *testing.T) {
	n, _ := yamlpos.Parse("f.yaml", []byte("name: x\ntier: high\nitems: [{id: a}]\n"))
	var d doc
	if ps := yamlpos.Decode("f.yaml", n, &d); len(ps) != 1 {
		t.Errorf("problems %v; want one", ps)
	}
	if d.Name != "x" || len(d.Items) != 1 || d.Items[0].ID != "a" {
		t.Errorf("decoded %+v; want the name and the items", d)
	}
}

func TestKeyedAndItems(t *testing.T) {
	n, _ := yamlpos.Parse("f.yaml", []byte("list: &l [a, b]\nsame: *l\nk: first\nk: second\n"))
	vals, keys := yamlpos.Keyed(n)
	if got := vals["k"].Value; got != "first" {
		t.Errorf("a key written twice: %q; want the first value", got)
	}
	if keys["k"].Line != 3 {
		t.Errorf("the key k is on line %d; want 3", keys["k"].Line)
	}
	if got := len(yamlpos.Items(vals["same"])); got != 2 {
		t.Errorf("the items of an alias: %d; want 2", got)
	}
	if yamlpos.Items(vals["k"]) != nil || len(yamlpos.Items(nil)) != 0 {
		t.Error("Items of a text or of nothing; want none")
	}
	if v, k := yamlpos.Keyed(vals["list"]); len(v) != 0 || len(k) != 0 {
		t.Error("Keyed of a list; want nothing")
	}
}

func TestDidYouMean(t *testing.T) {
	known := []string{"journey", "documents", "done"}
	for word, want := range map[string]string{
		"jurney": ` (did you mean "journey"?)`,
		"dome":   ` (did you mean "done"?)`, // the nearest, not the first near enough
		"xyz":    "",
	} {
		if got := yamlpos.DidYouMean(word, known); got != want {
			t.Errorf("DidYouMean(%q) = %q; want %q", word, got, want)
		}
	}
}

func TestProblems(t *testing.T) {
	ps := yamlpos.Problems{
		{File: "b.yaml", Line: 2, Col: 1, Msg: "b2"},
		{File: "a.yaml", Line: 10, Col: 5, Msg: "a10"},
		{File: "a.yaml", Line: 2, Col: 7, Msg: "a2:7"},
		{File: "a.yaml", Line: 2, Col: 3, Msg: "a2:3"},
		{File: "a.yaml", Msg: "whole file"},
		{Msg: "everything"},
	}
	ps.Sort()
	want := []string{"everything", "a.yaml: whole file", "a.yaml:2:3: a2:3", "a.yaml:2:7: a2:7", "a.yaml:10:5: a10", "b.yaml:2:1: b2"}
	if diff := cmp.Diff(want, ps.Strings()); diff != "" {
		t.Errorf("sorted (-want +got):\n%s", diff)
	}
	if got := ps.In("flows")[2].String(); got != "flows/a.yaml:2:3: a2:3" {
		t.Errorf("In: %q", got)
	}
	if got := ps.In("flows")[0].String(); got != "everything" {
		t.Errorf("In leaves a problem of no file alone: %q", got)
	}
}

func lines(ps yamlpos.Problems) []string {
	if ps == nil {
		return nil
	}
	return ps.Strings()
}
