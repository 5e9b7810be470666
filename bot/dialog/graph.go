package dialog

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// An arrow is one way out of a node, as the charts draw it.
type arrow struct {
	button *Choice // the button that takes it; nil for the other arrows
	label  string  // when button is nil: a branch condition, "else", "typed text", "other answers" or ""
	to     *jump
}

// A target is where an arrow leads, as a chart names it.
type target struct {
	kind string // "node": a node of the same flow; "goto": a node of another flow; "end"
	name string // the node id, "flow.node" or the end ("stop", "resume", ...)
}

func (t target) key() string {
	switch t.kind {
	case "goto":
		return "g_" + strings.ReplaceAll(t.name, ".", "_")
	case "end":
		return "end_" + t.name
	}
	return "n_" + t.name
}

// walk visits the nodes of f in file order, each with its arrows: the buttons' first, then
// the branch cases, typed text and the node's own next. Mermaid and DOT both draw this walk.
func (f *flow) walk(visit func(n *node, arrows []arrow)) {
	for _, n := range f.order {
		var as []arrow
		add := func(a arrow) {
			if a.to != nil && (a.to.node != nil || a.to.end != "") {
				as = append(as, a)
			}
		}
		for i, c := range n.choices {
			add(arrow{button: &n.buttons[i], to: c.to})
		}
		for _, c := range n.cases {
			label := "else"
			if c.cond != nil {
				label = c.cond.Source().String()
			}
			add(arrow{label: label, to: c.to})
		}
		if n.text != nil {
			add(arrow{label: "typed text", to: n.text})
		}
		label := ""
		if slices.ContainsFunc(n.choices, func(c choice) bool { return c.to != nil }) {
			label = "other answers"
		}
		add(arrow{label: label, to: n.to})
		visit(n, as)
	}
}

// targetOf names where j leads from flow f.
func (f *flow) targetOf(j *jump) target {
	switch {
	case j.node != nil && j.node.flow == f:
		return target{"node", j.node.id}
	case j.node != nil:
		return target{"goto", j.node.flow.id + "." + j.node.id}
	}
	return target{"end", j.end}
}

func (e *Engine) flow(flowID string) (*flow, error) {
	f := e.flows[flowID]
	if f == nil {
		return nil, fmt.Errorf("there is no flow %q (the flows are %s)", flowID, strings.Join(e.Flows(), ", "))
	}
	return f, nil
}

// Mermaid draws one flow as a Mermaid flowchart: questions as rounded boxes, messages as
// boxes, branches as diamonds, handoffs as double boxes; jumps to other flows and ends as
// their own shapes. Paste it into any Mermaid viewer (GitHub renders it in Markdown).
// Nodes show their message ids and arrows their choice ids; DOT shows the texts.
func (e *Engine) Mermaid(flowID string) (string, error) {
	f, err := e.flow(flowID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s (%s)\n---\nflowchart TD\n", f.id, f.file)
	f.walk(func(n *node, arrows []arrow) {
		id := "n_" + n.id
		switch n.kind {
		case kSay:
			fmt.Fprintf(&b, "  %s[%q]\n", id, quote(n.id+": say "+n.msg))
		case kAsk:
			fmt.Fprintf(&b, "  %s([%q])\n", id, quote(n.id+": ask "+n.msg))
		case kBranch:
			fmt.Fprintf(&b, "  %s{%q}\n", id, quote(n.id))
		case kHandoff:
			fmt.Fprintf(&b, "  %s[[%q]]\n", id, quote(fmt.Sprintf("%s: handoff tier %d, %s", n.id, n.handoff.Tier, n.handoff.Reason)))
		default:
			fmt.Fprintf(&b, "  %s[%q]\n", id, quote(n.id))
		}
		for _, a := range arrows {
			label := a.label
			if a.button != nil {
				label = a.button.ID
			}
			arrow := "-->"
			if label != "" {
				arrow = fmt.Sprintf("-- %q -->", quote(label))
			}
			t := f.targetOf(a.to)
			switch t.kind {
			case "node":
				fmt.Fprintf(&b, "  %s %s %s\n", id, arrow, t.key())
			case "goto":
				fmt.Fprintf(&b, "  %s %s %s>%q]\n", id, arrow, t.key(), "goto "+t.name)
			case "end":
				fmt.Fprintf(&b, "  %s %s %s((%q))\n", id, arrow, t.key(), "end: "+t.name)
			}
		}
	})
	return b.String(), nil
}

// quote keeps a label's double quotes from ending it early in Mermaid.
func quote(s string) string { return strings.ReplaceAll(s, `"`, "'") }

// DOT draws one flow in Graphviz's DOT language, for flowctl to render as SVG or PNG. Nodes
// show their message's text in lang (wrapped, and shortened past 80 characters), their id,
// and for an indicator question its code, class and weight ("debt_bondage · C · 3"); arrows
// show the button's label in lang, or the branch condition, shortened. Questions are rounded
// boxes (shaded when they carry an indicator), messages boxes, branches diamonds, handoffs
// double boxes, jumps to other flows and ends their own shapes. With lang "" the nodes show
// message ids, as Mermaid does.
func (e *Engine) DOT(flowID, lang string) (string, error) {
	f, err := e.flow(flowID)
	if err != nil {
		return "", err
	}
	if lang != "" && !slices.Contains(e.langs, lang) {
		return "", fmt.Errorf("there is no language %q (the languages are %s)", lang, strings.Join(e.langs, ", "))
	}
	text := func(lang, msg string) string {
		if lang == "" {
			return msg
		}
		if s, ok := e.lex.Text(lang, msg); ok {
			return s
		}
		return msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotID(f.id))
	fmt.Fprintf(&b, "  label=%s; labelloc=t; fontname=Helvetica; fontsize=18;\n", dotID(f.id+" ("+f.file+")"))
	b.WriteString("  node [fontname=Helvetica, fontsize=11, shape=box];\n")
	b.WriteString("  edge [fontname=Helvetica, fontsize=10];\n")
	var ends []target // drawn once each, after the nodes
	f.walk(func(n *node, arrows []arrow) {
		var lines []string
		attrs := ""
		switch n.kind {
		case kSay:
			lines = append(wrap(shorten(text(lang, n.msg), 80), 32), n.id)
			attrs = `, style=filled, fillcolor="#eeeeee"`
		case kAsk:
			lines = append(wrap(shorten(text(lang, n.msg), 80), 32), n.id)
			attrs = `, style="rounded,filled", fillcolor="#dde8fa"`
			if n.ind != nil {
				lines = append(lines, indicatorLine(n.ind))
				attrs = `, style="rounded,filled", fillcolor="#fde2c4"`
			}
		case kBranch:
			lines = []string{n.id}
			attrs = `, shape=diamond, style=filled, fillcolor="#fff3b0"`
		case kHandoff:
			lines = []string{n.id, fmt.Sprintf("handoff · tier %d · %s", n.handoff.Tier, n.handoff.Reason)}
			attrs = `, peripheries=2, style=filled, fillcolor="#f8d0d0"`
		default:
			lines = []string{n.id}
			attrs = `, shape=ellipse, style=filled, fillcolor="#eeeeee"`
		}
		fmt.Fprintf(&b, "  %s [label=%s%s];\n", dotID(target{"node", n.id}.key()), dotLabel(lines), attrs)
		for _, a := range arrows {
			label := shorten(a.label, 40)
			if a.button != nil {
				l := lang
				if a.button.Lang != "" {
					l = a.button.Lang
				}
				label = shorten(text(l, a.button.Label), 40)
				if lang == "" {
					label = a.button.ID
				}
			}
			t := f.targetOf(a.to)
			if t.kind != "node" && !slices.Contains(ends, t) {
				ends = append(ends, t)
			}
			edge := ""
			if label != "" {
				edge = " [label=" + dotLabel(wrap(label, 24)) + "]"
			}
			fmt.Fprintf(&b, "  %s -> %s%s;\n", dotID(target{"node", n.id}.key()), dotID(t.key()), edge)
		}
	})
	for _, t := range ends {
		if t.kind == "goto" {
			fmt.Fprintf(&b, "  %s [label=%s, shape=cds, style=filled, fillcolor=\"#e0e0e0\"];\n", dotID(t.key()), dotID("goto "+t.name))
		} else {
			fmt.Fprintf(&b, "  %s [label=%s, shape=doublecircle, style=filled, fillcolor=\"#e0e0e0\"];\n", dotID(t.key()), dotID("end: "+t.name))
		}
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// indicatorLine is an indicator as a node shows it: code · class · weight, and the answer
// that counts when it is not "yes".
func indicatorLine(ind *indicatorDoc) string {
	s := fmt.Sprintf("%s · %s · %d", ind.Code, ind.Class, ind.Weight)
	if ind.Positive != "yes" { // build set the default
		s += " · counts: " + ind.Positive
	}
	return s
}

// shorten cuts s to at most limit characters, ending it with "…" when it was longer; line
// breaks become spaces.
func shorten(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)[:limit-1]
	if i := strings.LastIndexByte(string(r), ' '); i > len(string(r))/2 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

// wrap breaks s into lines of about width characters at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// dotID quotes s as a DOT string.
func dotID(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// dotLabel quotes lines as one DOT label, one centred line each.
func dotLabel(lines []string) string { return dotID(strings.Join(lines, "\n")) }

// Stats counts what a set of flows holds.
type Stats struct{ Flows, Nodes, Questions int }

// Stats counts the flows, nodes and questions.
func (e *Engine) Stats() Stats {
	st := Stats{Flows: len(e.order), Questions: len(e.questions)}
	for _, f := range e.order {
		st.Nodes += len(f.order)
	}
	return st
}
