package dialog

// Resolve links every transition to where it leads, and records the questions. It guarantees
// the phases after it: each jump's node is set (for "goto: FLOW", the flow's start) or its end
// is one of Ends, or a problem says why not (a misspelt "next" with the closest node id); and
// l.e.questions holds every question by its id, which is unique across the flows.

import (
	"slices"
	"strings"

	"github.com/faros-project/faros/internal/yamlpos"
)

// resolve links n's transitions to nodes and records its questions.
func (l *loader) resolve(n *node) {
	file := n.flow.file
	l.link(n, n.to)
	l.link(n, n.text)
	for _, c := range n.choices {
		l.link(n, c.to)
	}
	for _, c := range n.cases {
		l.link(n, c.to)
	}
	if n.kind == kAsk {
		if q := l.e.questions[n.id]; q != nil {
			l.at(file, n.y, "the question id %q is also used in %s: answers are kept under the question id, so it must be unique", n.id, q.flow.file)
		} else {
			l.e.questions[n.id] = n
		}
	}
}

// link resolves one transition j written in node n.
func (l *loader) link(n *node, j *jump) {
	if j == nil {
		return
	}
	file := n.flow.file
	vals, _ := yamlpos.Keyed(j.y)
	set := 0
	for _, s := range []string{j.doc.Next, j.doc.Goto, j.doc.End} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		l.at(file, j.y, `write only one of "next", "goto" and "end"`)
		return
	}
	switch {
	case j.doc.Next != "":
		if j.node = n.flow.nodes[j.doc.Next]; j.node == nil {
			l.at(file, vals["next"], "next: there is no node %q in the flow %q%s", j.doc.Next, n.flow.id, l.closest(j.doc.Next, n.flow))
		}
	case j.doc.Goto != "":
		fid, nid, hasNode := strings.Cut(j.doc.Goto, ".")
		f := l.e.flows[fid]
		switch {
		case f == nil:
			l.at(file, vals["goto"], "goto: there is no flow %q", fid)
		case hasNode:
			if j.node = f.nodes[nid]; j.node == nil {
				l.at(file, vals["goto"], "goto: there is no node %q in the flow %q", nid, fid)
			}
		default:
			j.node = f.start
		}
	case j.doc.End != "":
		if !slices.Contains(Ends, j.doc.End) {
			l.at(file, vals["end"], "end: %q is not one of %s", j.doc.End, strings.Join(Ends, ", "))
		}
		j.end = j.doc.End
	}
}

func (l *loader) closest(id string, f *flow) string {
	ids := make([]string, len(f.order))
	for i, n := range f.order {
		ids[i] = n.id
	}
	return yamlpos.DidYouMean(id, ids)
}
