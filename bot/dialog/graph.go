package dialog

import (
	"fmt"
	"strings"
)

// Mermaid draws one flow as a Mermaid flowchart: questions as rounded boxes, messages as
// boxes, branches as diamonds, handoffs as double boxes; jumps to other flows and ends as
// their own shapes. Paste it into any Mermaid viewer (GitHub renders it in Markdown).
func (e *Engine) Mermaid(flowID string) (string, error) {
	f := e.flows[flowID]
	if f == nil {
		return "", fmt.Errorf("there is no flow %q (the flows are %s)", flowID, strings.Join(e.Flows(), ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s (%s)\n---\nflowchart TD\n", f.id, f.file)
	for _, n := range f.order {
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
		edge := func(label string, j *jump) {
			if j == nil {
				return
			}
			arrow := "-->"
			if label != "" {
				arrow = fmt.Sprintf("-- %q -->", quote(label))
			}
			switch {
			case j.node != nil && j.node.flow == f:
				fmt.Fprintf(&b, "  %s %s n_%s\n", id, arrow, j.node.id)
			case j.node != nil:
				to := j.node.flow.id + "." + j.node.id
				fmt.Fprintf(&b, "  %s %s g_%s>%q]\n", id, arrow, strings.ReplaceAll(to, ".", "_"), "goto "+to)
			case j.end != "":
				fmt.Fprintf(&b, "  %s %s end_%s((%q))\n", id, arrow, j.end, "end: "+j.end)
			}
		}
		for i, c := range n.choices {
			edge(n.buttons[i].ID, c.to)
		}
		for _, c := range n.cases {
			label := "else"
			if c.cond != nil {
				label = c.cond.Source().String()
			}
			edge(label, c.to)
		}
		if n.text != nil {
			edge("typed text", n.text)
		}
		label := ""
		for _, c := range n.choices {
			if c.to != nil {
				label = "other answers"
			}
		}
		edge(label, n.to)
	}
	return b.String(), nil
}

// quote keeps a label's double quotes from ending it early in Mermaid.
func quote(s string) string { return strings.ReplaceAll(s, `"`, "'") }

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
