package dialog

// Build turns each decoded flow file into a flow and its nodes, in file order. It guarantees
// the phases after it: every node has its kind, message, params and branch conditions
// (compiled and type-checked against env), its choices and cases, and a jump for every
// transition written (not yet linked: see resolve.go); every default is set (defaults); and
// l.flags holds every flag some node or choice sets. Load goes no further if build reports a
// problem, so the later phases meet only nodes that were built whole.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	exprfile "github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

var ident = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// addFlow creates the nodes of one flow file, y decoded as doc; transitions are resolved later.
func (l *loader) addFlow(file string, y *yaml.Node, doc *flowDoc) {
	vals, keys := yamlpos.Keyed(y)
	f := &flow{id: doc.ID, file: file, nodes: map[string]*node{}, y: y}
	switch {
	case doc.ID == "":
		l.at(file, y, `the flow needs an "id"`)
		return
	case !ident.MatchString(doc.ID):
		l.at(file, vals["id"], "the flow id %q must be lower-case letters, digits and _", doc.ID)
	case l.e.flows[doc.ID] != nil:
		l.at(file, vals["id"], "the flow id %q is already used by %s", doc.ID, l.e.flows[doc.ID].file)
		return
	}
	l.e.flows[doc.ID] = f
	l.e.order = append(l.e.order, f)
	nodes := vals["nodes"]
	if nodes == nil || len(nodes.Content) == 0 {
		l.at(file, keys["id"], "the flow %q has no nodes", doc.ID)
		return
	}
	for i := 0; i+1 < len(nodes.Content); i += 2 {
		k, v := nodes.Content[i], nodes.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		d := doc.Nodes[k.Value]
		n := &node{id: k.Value, flow: f, y: v, set: d.Set, tier: d.Tier, reason: d.Reason, count: d.Count, ind: d.Indicator}
		if !ident.MatchString(n.id) {
			l.at(file, k, "the node id %q must be lower-case letters, digits and _", n.id)
		}
		l.build(n, d, k)
		defaults(n)
		f.nodes[n.id] = n
		f.order = append(f.order, n)
	}
	switch {
	case doc.Start == "":
		l.at(file, y, `the flow needs a "start" node`)
	case f.nodes[doc.Start] == nil:
		l.at(file, vals["start"], "start: there is no node %q in this flow", doc.Start)
	default:
		f.start = f.nodes[doc.Start]
	}
}

// build fills n from its document and reports what a node cannot be.
func (l *loader) build(n *node, d nodeDoc, key *yaml.Node) {
	file := n.flow.file
	vals, _ := yamlpos.Keyed(n.y)
	var kinds []string
	add := func(k kind, name string, present bool) {
		if present {
			n.kind = k
			kinds = append(kinds, name)
		}
	}
	add(kSay, "say", d.Say != "")
	add(kAsk, "ask", d.Ask != "")
	add(kBranch, "branch", d.Branch != nil)
	add(kHandoff, "handoff", d.Handoff != nil)
	if len(kinds) > 1 {
		l.at(file, key, "the node %q does %s: a node does one of say, ask, branch or handoff", n.id, strings.Join(kinds, " and "))
	}
	n.msg = d.Say
	if d.Ask != "" {
		n.msg = d.Ask
	}
	if d.Next != "" || d.Goto != "" || d.End != "" {
		n.to = &jump{doc: d.jumpDoc, y: n.y}
	}
	pv, _ := yamlpos.Keyed(vals["params"])
	for name, src := range d.Params {
		n.params = append(n.params, param{name: name, prog: l.compile(file, pv[name], src, false)})
	}
	sort.Slice(n.params, func(i, j int) bool { return n.params[i].name < n.params[j].name })
	if d.Text != nil {
		n.text = &jump{doc: *d.Text, y: vals["text"]}
	}
	n.langs = d.Languages
	n.secret = d.Secret
	n.brief = strings.TrimSpace(d.Brief)
	if n.brief != "" && n.kind != kAsk {
		l.at(file, vals["brief"], "brief: only a question (ask) has words for the counsellors' packet")
	}
	if d.Handoff != nil {
		n.handoff = *d.Handoff
	}
	for _, s := range append(slices.Clone(d.Set), choiceFlags(d.Choices)...) {
		l.flags[s] = true
	}
	if n.tier < 0 || n.tier > 3 {
		l.at(file, vals["tier"], "tier must be 0, 1, 2 or 3")
	}
	if n.count != "" && !slices.Contains(Counts, n.count) {
		l.at(file, vals["count"], "count: %q is not a statistic Faros keeps (%s)", n.count, strings.Join(Counts, ", "))
	}
	for i, it := range yamlpos.Items(vals["choices"]) {
		c := d.Choices[i]
		ch := choice{id: c.ID, label: c.Label, set: c.Set}
		if c.Next != "" || c.Goto != "" || c.End != "" {
			ch.to = &jump{doc: c.jumpDoc, y: it}
		}
		n.choices = append(n.choices, ch)
	}
	for i, it := range yamlpos.Items(vals["branch"]) {
		c := d.Branch[i]
		bc := branchCase{to: &jump{doc: c.jumpDoc, y: it}, isElse: c.Else && c.When == ""}
		cv, _ := yamlpos.Keyed(it)
		switch {
		case c.Else && c.When != "":
			l.at(file, it, `a branch case has either "when" or "else", not both`)
		case c.Else:
		case c.When == "":
			l.at(file, it, `a branch case needs "when: <condition>" (or "else: true" as the last case)`)
		default:
			bc.cond = l.compile(file, cv["when"], c.When, true)
		}
		n.cases = append(n.cases, bc)
	}
}

// defaults fills in what a node may leave out, so that the checks only check and Step reads
// one value. It is the one place where a default is set, and today there is one:
//   - an indicator's positive answer: "yes" (docs/EDITING.md, "Flows").
//
// What else may be left out keeps its zero value (an indicator's class "", counted as neither
// I nor C, and weight 0; a node's tier 0), or is decided where it is followed rather than
// copied: a choice without a transition takes its question's (step.go's choose, prepareVital;
// the charts draw it once, as "other answers"), and "end: resume" with nothing interrupted
// goes home (step.go's jump, reach.go's edges).
func defaults(n *node) {
	if n.ind != nil && n.ind.Positive == "" {
		n.ind.Positive = "yes"
	}
}

func choiceFlags(cs []choiceDoc) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Set...)
	}
	return out
}

// compile type-checks an expression against env; problems are reported at y.
func (l *loader) compile(file string, y *yaml.Node, src string, isCond bool) *vm.Program {
	opts := []expr.Option{expr.Env(env{})}
	if isCond {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		msg := err.Error()
		col := 0
		var fe *exprfile.Error
		if errors.As(err, &fe) {
			msg, col = fe.Message, fe.Column
			if y != nil && (y.Style == yaml.DoubleQuotedStyle || y.Style == yaml.SingleQuotedStyle) {
				col++
			}
		}
		p := Problem{File: file, Msg: fmt.Sprintf("the condition %q does not work: %s", src, msg)}
		if !isCond {
			p.Msg = fmt.Sprintf("the value %q does not work: %s", src, msg)
		}
		if y != nil {
			p.Line, p.Col = y.Line, y.Column+col
		}
		l.probs = append(l.probs, p)
		return nil
	}
	return prog
}
