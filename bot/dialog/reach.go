package dialog

// Reach walks the graph of the nodes, from the flows triggers.yaml names. It runs only on
// content without problems so far, where every transition leads somewhere, and guarantees
// prepare and Step that every flow and node can be reached, and that no loop of nodes goes
// round without asking: MaxHops is then only a guard against a bug.

import (
	"maps"
	"slices"
	"strings"
)

// edges returns where n can lead; auto reports whether n leads there without waiting for input.
func (e *Engine) edges(n *node) (next []*node, auto bool) {
	add := func(j *jump) {
		switch {
		case j == nil:
		case j.node != nil:
			next = append(next, j.node)
		case j.end == "resume" && e.home != nil:
			next = append(next, e.home.start)
		}
	}
	add(n.to)
	add(n.text)
	for _, c := range n.choices {
		add(c.to)
	}
	for _, c := range n.cases {
		add(c.to)
	}
	return next, n.kind != kAsk
}

// reach reports unreachable flows and nodes, and loops that never wait for the person.
func (l *loader) reach() {
	e := l.e
	reached := map[*node]bool{}
	var visit func(n *node)
	visit = func(n *node) {
		if n == nil || reached[n] {
			return
		}
		reached[n] = true
		next, _ := e.edges(n)
		for _, m := range next {
			visit(m)
		}
	}
	for _, f := range append([]*flow{e.entry, e.home, e.emergency, e.duress, e.help}, slices.Collect(maps.Values(e.commands))...) {
		visit(f.start)
	}
	for _, f := range e.order {
		if !reached[f.start] {
			l.at(f.file, f.y, "the flow %q is never reached: no trigger, goto or command leads to it", f.id)
			continue
		}
		for _, n := range f.order {
			if !reached[n] {
				l.at(f.file, n.y, "the node %q is never reached: nothing leads to it", n.id)
			}
		}
	}
	// A loop of nodes that never ask would spin forever.
	state := map[*node]int{} // 1: on the path, 2: done
	var path []*node
	var dfs func(n *node)
	dfs = func(n *node) {
		next, auto := e.edges(n)
		if !auto {
			state[n] = 2
			return
		}
		state[n] = 1
		path = append(path, n)
		for _, m := range next {
			switch state[m] {
			case 0:
				dfs(m)
			case 1:
				i := slices.Index(path, m)
				var ids []string
				for _, p := range path[i:] {
					ids = append(ids, p.flow.id+"."+p.id)
				}
				l.at(m.flow.file, m.y, "these nodes lead to each other without asking anything, so the conversation would never stop: %s → %s", strings.Join(ids, " → "), m.flow.id+"."+m.id)
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
	}
	for n := range e.nodes() {
		if state[n] == 0 {
			dfs(n)
		}
	}
}
