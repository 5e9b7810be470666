package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decode checks n against the type of v, a pointer to the Go value that describes the file
// (a struct's yaml tags are its keys), then decodes n into v. It reports, each at its line and
// column, every key that is unknown (with the key meant, or the known keys), every key
// written twice (naming the line of the first), and every value of the wrong shape or type
// ("tier" must be a whole number). A field of type yaml.Node takes any value: the caller
// checks it. With problems, v still gets every value that has the right type.
//
// The parser's own strict mode (KnownFields) is not used: it stops at the first problem of a
// kind and speaks of Go types ("cannot unmarshal !!str into int").
func Decode(file string, n *yaml.Node, v any) Problems {
	c := checker{file: file}
	c.walk(n, reflect.TypeOf(v).Elem(), "the file")
	var te *yaml.TypeError
	if err := n.Decode(v); err != nil && !errors.As(err, &te) {
		c.ps = append(c.ps, At(file, n, "%v", err))
	}
	// A type error is a value of the wrong type, which the walk reported in plain words.
	return c.ps
}

// checker walks a node and the Go type it should decode into, collecting problems.
type checker struct {
	file string
	ps   Problems
}

func (c *checker) bad(n *yaml.Node, format string, args ...any) {
	c.ps = append(c.ps, At(c.file, n, format, args...))
}

var nodeType = reflect.TypeFor[yaml.Node]()

// walk checks n against t; what names the value in a problem: "the file", `"tier"`.
func (c *checker) walk(n *yaml.Node, t reflect.Type, what string) {
	n = follow(n)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nodeType:
		return
	case t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		c.mapping(n, what, func(k, v *yaml.Node) {
			f, ok := fields[k.Value]
			if !ok {
				c.bad(k, "unknown key %q%s", k.Value, suggest(k.Value, fields))
				return
			}
			c.walk(v, f.Type, fmt.Sprintf("%q", k.Value))
		})
	case t.Kind() == reflect.Map:
		c.mapping(n, what, func(k, v *yaml.Node) { c.walk(v, t.Elem(), fmt.Sprintf("%q", k.Value)) })
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.bad(n, "%s must be a list", what)
			return
		}
		for _, item := range n.Content {
			c.walk(item, t.Elem(), "each item of "+what)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			c.bad(n, "%s must be a single word or text", what)
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			c.bad(n, "%s must be true or false", what)
		}
	case slices.Contains([]reflect.Kind{reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64}, t.Kind()):
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			c.bad(n, "%s must be a whole number", what)
		}
	}
}

// mapping checks that n is a mapping whose keys are written once, and calls each with every
// key and value but the repeats.
func (c *checker) mapping(n *yaml.Node, what string, each func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		c.bad(n, "%s must be a set of keys and values", what)
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first := seen[k.Value]; first != nil {
			c.bad(k, "the key %q is already defined on line %d: keep one of the two", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		each(k, v)
	}
}

// yamlFields maps the yaml keys of struct t to their fields, flattening inline structs.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline":
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
		case name != "" && name != "-":
			fields[name] = f
		}
	}
	return fields
}

// suggest names the known key closest to a misspelt one, or lists the known keys.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	if s := DidYouMean(key, names); s != "" {
		return s
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}
