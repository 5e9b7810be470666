package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-graphviz"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// graphOptions are the flags of flowctl graph.
type graphOptions struct {
	flow   string // a flow id, or "all"
	format string // mermaid, dot or svg; "": from out's extension, else mermaid
	lang   string // the texts' language (dot, svg); "": locales.Reference
	out    string // a file, or a directory for one file per flow; "": the standard output (all: ".")
}

// formats are graph's formats, each with the extension of its files.
var formats = map[string]string{"mermaid": ".mmd", "dot": ".dot", "svg": ".svg"}

// formatOf returns the format that a file's extension names, or "".
func formatOf(file string) string {
	ext := strings.ToLower(filepath.Ext(file))
	if ext == ".gv" {
		return "dot"
	}
	for f, e := range formats {
		if e == ext {
			return f
		}
	}
	return ""
}

// graph draws one flow, or all of them, in o.format; see docs/EDITING.md.
//
//   - FLOW without --out: the drawing goes to out (the standard output);
//   - FLOW with --out FILE: it goes to FILE; with --out DIR (an existing directory): to
//     DIR/FLOW.EXT (.mmd, .dot, .svg);
//   - all: one file per flow, DIR/FLOW.EXT, in --out DIR (default: the current directory),
//     which is made if it does not exist.
//
// Each file written is named on out.
func graph(src sources, o graphOptions, out io.Writer) error {
	if o.format == "" {
		o.format = "mermaid"
		if f := formatOf(o.out); f != "" && o.flow != "all" {
			o.format = f
		}
	}
	o.format = strings.ToLower(o.format)
	ext, ok := formats[o.format]
	if !ok {
		return fmt.Errorf("--format %s: the formats are mermaid, dot and svg (for a PNG, convert the SVG)", o.format)
	}
	if o.format == "mermaid" && o.lang != "" {
		return fmt.Errorf("--lang %s: a Mermaid chart shows message ids; --format svg or dot shows the texts", o.lang)
	}
	if o.lang == "" {
		o.lang = locales.Reference
	}
	e, _, err := src.load()
	if err != nil {
		return err
	}
	ids := []string{o.flow}
	if o.flow == "all" {
		ids = e.Flows()
	} else if !slices.Contains(e.Flows(), o.flow) {
		return fmt.Errorf("there is no flow %q (the flows are %s, or all)", o.flow, strings.Join(e.Flows(), ", "))
	}
	dir := ""
	switch {
	case o.flow == "all":
		dir = o.out
		if dir == "" {
			dir = "."
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case o.out != "":
		if st, err := os.Stat(o.out); err == nil && st.IsDir() {
			dir = o.out
		}
	}
	r := &renderer{format: o.format}
	defer r.close()
	for _, id := range ids {
		data, err := r.draw(e, id, o.lang)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		file := o.out
		switch {
		case dir != "":
			file = filepath.Join(dir, id+ext)
		case o.out == "":
			_, err := out.Write(data)
			return err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\n", file)
	}
	return nil
}

// renderer draws flows in one format. Graphviz (compiled to WebAssembly) starts once, on the
// first SVG, and serves every flow after.
type renderer struct {
	format string
	gv     *graphviz.Graphviz
}

func (r *renderer) draw(e *dialog.Engine, flow, lang string) ([]byte, error) {
	if r.format == "mermaid" {
		m, err := e.Mermaid(flow)
		return []byte(m), err
	}
	dot, err := e.DOT(flow, lang)
	if err != nil || r.format == "dot" {
		return []byte(dot), err
	}
	return r.render(dot)
}

// render lays out a DOT graph and renders it as SVG.
func (r *renderer) render(dot string) ([]byte, error) {
	ctx := context.Background()
	if r.gv == nil {
		gv, err := graphviz.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("starting graphviz: %w", err)
		}
		r.gv = gv
	}
	g, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return nil, fmt.Errorf("graphviz cannot read the DOT: %w", err)
	}
	defer g.Close()
	var buf bytes.Buffer
	if err := r.gv.Render(ctx, g, graphviz.Format(r.format), &buf); err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	if buf.Len() == 0 {
		return nil, errors.New("graphviz drew nothing")
	}
	return buf.Bytes(), nil
}

func (r *renderer) close() {
	if r.gv != nil {
		r.gv.Close()
	}
}
