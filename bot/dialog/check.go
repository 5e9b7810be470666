package dialog

// Check reports what is wrong with each node once every transition is linked and the triggers
// are read, and changes nothing: the defaults are set in build. It guarantees reach that every
// message exists in every language; every node does what its kind needs and has a way on;
// every branch ends with its fallback; choices, briefs, indicators and flags are well formed;
// and every answer, flag or choice a condition names exists.

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// message reports a message id that some language lacks.
func (l *loader) message(file string, y *yaml.Node, id string) {
	var missing []string
	for _, lang := range l.e.langs {
		if _, ok := l.e.lex.Text(lang, id); !ok {
			missing = append(missing, lang)
		}
	}
	if len(missing) > 0 {
		l.at(file, y, "the message %q is missing in %s", id, strings.Join(missing, ", "))
	}
}

// check reports what is wrong with one node once all transitions are resolved.
func (l *loader) check(n *node) {
	file := n.flow.file
	vals, keys := yamlpos.Keyed(n.y)
	if n.msg != "" {
		key := "ask"
		if n.kind == kSay {
			key = "say"
		}
		l.message(file, vals[key], n.msg)
	}
	needsTo := func(what string) {
		if n.to == nil {
			l.at(file, keys[what], `after %q the node %q needs "next", "goto" or "end"`, what, n.id)
		}
	}
	switch n.kind {
	case kJump:
		if n.to == nil {
			l.at(file, n.y, `the node %q does nothing: give it "say", "ask", "branch", "handoff" or a transition`, n.id)
		}
	case kSay:
		needsTo("say")
	case kHandoff:
		needsTo("handoff")
		if n.handoff.Tier < 1 || n.handoff.Tier > 3 {
			l.at(file, vals["handoff"], "handoff: tier must be 1, 2 or 3")
		}
		if n.handoff.Reason == "" {
			l.at(file, vals["handoff"], "handoff: the reason is missing")
		}
	case kBranch:
		if n.to != nil {
			l.at(file, n.y, `a branch chooses its own way: write "next" in its cases, not on the node`)
		}
		l.checkBranch(n, vals["branch"])
	case kAsk:
		l.checkAsk(n, vals, keys)
	}
	if n.kind != kAsk {
		for _, k := range []string{"choices", "languages", "text", "indicator", "secret"} {
			if keys[k] != nil {
				l.at(file, keys[k], "%q belongs to a question (a node with \"ask\")", k)
			}
		}
	}
	l.checkFlags(file, vals["set"], n.set)
}

// checkFlags reports the flags of set, written at y, that are not well-formed names.
func (l *loader) checkFlags(file string, y *yaml.Node, set []string) {
	for _, f := range set {
		if !ident.MatchString(f) {
			l.at(file, y, "the flag %q must be lower-case letters, digits and _", f)
		}
	}
}

func (l *loader) checkBranch(n *node, y *yaml.Node) {
	file := n.flow.file
	its := yamlpos.Items(y)
	if len(n.cases) == 0 {
		l.at(file, y, "the branch has no cases")
		return
	}
	for i, c := range n.cases {
		if c.to.node == nil && c.to.end == "" && c.to.doc == (jumpDoc{}) {
			l.at(file, its[i], `the branch case needs "next", "goto" or "end"`)
		}
		if c.isElse && i < len(n.cases)-1 {
			l.at(file, its[i+1], "this case comes after \"else\" and can never be chosen")
		}
		if c.cond != nil {
			cv, _ := yamlpos.Keyed(its[i])
			l.checkNames(file, cv["when"], c.cond)
		}
	}
	if !n.cases[len(n.cases)-1].isElse {
		l.at(file, its[len(its)-1], `the branch has no fallback: end it with "- else: true" and where to go when no condition holds`)
	}
}

func (l *loader) checkAsk(n *node, vals, keys map[string]*yaml.Node) {
	file := n.flow.file
	its := yamlpos.Items(vals["choices"])
	switch {
	case n.langs && len(n.choices) > 0:
		l.at(file, keys["languages"], `a language question makes its own choices: remove "choices"`)
	case !n.langs && len(n.choices) == 0 && n.text == nil:
		l.at(file, n.y, `the question %q needs "choices", "languages: true" or "text"`, n.id)
	}
	if n.secret && n.text == nil {
		l.at(file, keys["secret"], `only a question with "text" can be secret: its typed answer is the secret`)
	}
	if n.langs && n.to == nil && len(n.choices) == 0 {
		l.at(file, keys["languages"], `after the language question the node %q needs "next", "goto" or "end"`, n.id)
	}
	seen := map[string]bool{}
	for i, c := range n.choices {
		cv, _ := yamlpos.Keyed(its[i])
		switch {
		case c.id == "":
			l.at(file, its[i], `the choice needs an "id"`)
		case !ident.MatchString(c.id):
			l.at(file, cv["id"], "the choice id %q must be lower-case letters, digits and _", c.id)
		case c.id == Leave:
			l.at(file, cv["id"], "the choice id %q is the leave-now button every question already has", c.id)
		case seen[c.id]:
			l.at(file, cv["id"], "the choice id %q is used twice in this question", c.id)
		}
		seen[c.id] = true
		if c.label == "" {
			l.at(file, its[i], `the choice %q needs a "label" (a message id)`, c.id)
		} else {
			l.message(file, cv["label"], c.label)
		}
		if c.to == nil && n.to == nil {
			l.at(file, its[i], `the choice %q leads nowhere: give it "next", "goto" or "end", or give the question one`, c.id)
		}
		l.checkFlags(file, cv["set"], c.set)
	}
	switch other := l.briefs[n.brief]; {
	case n.screens() && !n.secret && n.brief == "":
		l.at(file, n.y, `the question %q counts in the screening: give it a "brief", what a "yes" would mean in a few Greek words, for the counsellors' packet`, n.id)
	case other != nil:
		l.at(file, vals["brief"], "the brief %q is also the question %q's (%s:%d): each question needs its own", n.brief, other.id, other.flow.file, other.y.Line)
	case n.brief != "":
		l.briefs[n.brief] = n
	}
	if ind := n.ind; ind != nil {
		iv, _ := yamlpos.Keyed(vals["indicator"])
		if ind.Code == "" {
			l.at(file, vals["indicator"], "the indicator needs a code")
		} else if _, listed := l.e.indicators[ind.Code]; l.e.indicators != nil && !listed {
			l.at(file, iv["code"], "indicator code %q is not in %s's indicators: add it there, with its kind and names", ind.Code, TriggersFile)
		}
		if ind.Class != "" && ind.Class != "I" && ind.Class != "C" {
			l.at(file, iv["class"], "class must be I (not freely agreed) or C (coercion), or left out")
		}
		if ind.Weight < 0 {
			l.at(file, iv["weight"], "weight must be 0 or more")
		}
		if !seen[ind.Positive] {
			l.at(file, vals["indicator"], "the positive answer %q is not one of this question's choices", ind.Positive)
		}
	}
}

// checkNames reports answers and flags that a condition names but nothing provides, and
// answers compared with a choice the question does not have.
func (l *loader) checkNames(file string, y *yaml.Node, prog *vm.Program) {
	tree := prog.Node()
	ast.Walk(&tree, visitor(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.MemberNode:
			obj, ok1 := n.Node.(*ast.IdentifierNode)
			prop, ok2 := n.Property.(*ast.StringNode)
			if !ok1 || !ok2 {
				return
			}
			switch {
			case obj.Value == "answers" && l.e.questions[prop.Value] == nil:
				l.at(file, y, "the condition names the answer %q, but there is no question %q", prop.Value, prop.Value)
			case obj.Value == "flags" && !l.flags[prop.Value]:
				l.at(file, y, "the condition names the flag %q, but no choice or node sets it", prop.Value)
			}
		case *ast.BinaryNode:
			if n.Operator != "==" && n.Operator != "!=" {
				return
			}
			for _, pair := range [][2]ast.Node{{n.Left, n.Right}, {n.Right, n.Left}} {
				m, ok1 := pair[0].(*ast.MemberNode)
				lit, ok2 := pair[1].(*ast.StringNode)
				if !ok1 || !ok2 {
					continue
				}
				obj, ok1 := m.Node.(*ast.IdentifierNode)
				prop, ok2 := m.Property.(*ast.StringNode)
				q := l.e.questions[prop.Value]
				if ok1 && ok2 && obj.Value == "answers" && q != nil && len(q.choices) > 0 && !q.hasChoice(lit.Value) {
					l.at(file, y, "the question %q has no answer %q", prop.Value, lit.Value)
				}
			}
		}
	}))
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

func (n *node) hasChoice(id string) bool {
	return slices.ContainsFunc(n.choices, func(c choice) bool { return c.id == id })
}
