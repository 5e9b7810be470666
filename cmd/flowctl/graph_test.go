package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGraphSVG renders the shipped screening flow through Graphviz (WebAssembly); it takes
// well under a second, so -short runs it too.
func TestGraphSVG(t *testing.T) {
	start := time.Now()
	code, out, errOut := flowctl(t, "", "graph", "--format", "svg", "--lang", "el", "screening")
	t.Logf("rendered screening as SVG in %v", time.Since(start))
	if code != 0 {
		t.Fatalf("graph exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(strings.TrimSpace(out), "<?xml") || !strings.Contains(out, "<svg") {
		t.Fatalf("not an SVG document:\n%.300s", out)
	}
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the SVG is not well-formed XML: %v", err)
			}
			break
		}
	}
	// q_debt's Greek text, wrapped, and the indicator's code, class and weight.
	for _, want := range []string{"Χρωστάς λεφτά", "debt_bondage · C · 3", "deception · I · 2", ">debt<"} {
		if !strings.Contains(out, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}

func TestGraphFiles(t *testing.T) {
	dir := t.TempDir()
	// all: one file per flow in --out DIR.
	code, out, errOut := flowctl(t, "", "graph", "--format", "dot", "--out", dir, "all")
	if code != 0 {
		t.Fatalf("graph all exit %d: %s", code, errOut)
	}
	for _, flow := range []string{"screening", "consent", "welcome"} {
		file := filepath.Join(dir, flow+".dot")
		data, err := os.ReadFile(file)
		if err != nil || !bytes.HasPrefix(data, []byte(`digraph "`+flow+`"`)) {
			t.Errorf("%s: %v %.40q", file, err, data)
		}
		if !strings.Contains(out, "wrote "+file+"\n") {
			t.Errorf("graph all does not name %s:\n%s", file, out)
		}
	}
	// The format follows --out's extension; --lang picks the texts.
	file := filepath.Join(dir, "consent.gv")
	if code, _, errOut = flowctl(t, "", "graph", "--lang", "en", "--out", file, "consent"); code != 0 {
		t.Fatalf("graph --out consent.gv: exit %d: %s", code, errOut)
	}
	if data, _ := os.ReadFile(file); !bytes.HasPrefix(data, []byte(`digraph "consent"`)) || !bytes.Contains(data, []byte("EKKA")) {
		t.Errorf("consent.gv:\n%.300s", data)
	}
	for _, args := range [][]string{
		{"graph", "--format", "gif", "consent"},
		{"graph", "--lang", "el", "consent"}, // Mermaid shows ids, not texts
		{"graph", "--format", "svg", "--lang", "xx", "consent"},
		{"graph", "--format", "svg", "nope"},
	} {
		if code, _, errOut := flowctl(t, "", args...); code != 1 || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}
