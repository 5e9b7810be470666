package dialog

// The Engine and what Load makes of the documents: flows, nodes, choices, branch cases and
// transitions, read by Step, Vital and the charts. Load (load.go) fills them phase by phase;
// once it returns them they never change.

import (
	"iter"
	"maps"
	"path"
	"slices"

	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// TriggersFile is the file of a flows directory that holds the global triggers; every other
// *.yaml file at the top of the directory is one flow.
const TriggersFile = "triggers.yaml"

// Commands are the commands every conversation understands, in every language
// (docs/DESIGN.md, "Commands every conversation understands").
var Commands = []string{"start", "language", "help", "stop", "wipe"}

// Ends are the values of "end:".
var Ends = []string{"stop", "wipe", "resume", "wait"}

// Leave is the id of the button every question has: "leave now", the same as /stop.
const Leave = "stop"

// Engine is a loaded, checked set of flows. It is immutable and safe for concurrent use;
// new content means a new Engine.
type Engine struct {
	indicators   map[string]Indicator // by code, from triggers.yaml; nil when it lists none
	lex          Lexicon
	langs        []string
	flows        map[string]*flow
	order        []*flow // by file name
	entry        *flow
	home         *flow
	commands     map[string]*flow
	emergency    *flow
	duress       *flow
	help         *flow     // opened by a help word
	triggerWords wordIndex // the help, emergency and duress words of every language
	labels       map[string]map[string]string
	questions    map[string]*node
	secrets      []string         // ids of the secret questions
	vital        map[button]Vital // buttons that pass the limits (Vital)
	leaveLabels  []string         // the leave-now label of every language, folded
	msg          struct{ notUnderstood, outdated, restarted, languageName, leave string }
}

// button is a choice of one question, as Input names it.
type button struct{ question, choice string }

type flow struct {
	id, file string
	urgent   bool // the emergency flow and /help: their messages go ahead of others
	start    *node
	nodes    map[string]*node
	order    []*node
	y        *yaml.Node
}

// kind is what a node does.
type kind int

// The kinds of node. Whoever adds one also:
//   - yaml.go: gives nodeDoc its key; build.go: build recognises it, and names it in "a node
//     does one of …"; check.go: check's "does nothing" names it, its switch checks what the
//     kind needs, and the list of keys that belong to a question still holds;
//   - reach.go: edges reports whether it waits for the person (as kAsk does) or moves on;
//   - prepare.go and vital.go: if it shows buttons, they are prepared and counted in Vital;
//   - step.go: visit does it (and current, if a conversation can wait at it);
//   - graph.go: Mermaid and DOT give it a shape;
//   - docs/EDITING.md: the node table and "What lint checks";
//   - tests: a node in helpers_test.go's fixture, its problems in load_test.go, its steps in
//     step_test.go, its shape in graph_test.go.
const (
	kJump kind = iota // only a transition
	kSay
	kAsk
	kBranch
	kHandoff
)

type node struct {
	id      string
	flow    *flow
	kind    kind
	msg     string // say or ask
	params  []param
	choices []choice
	langs   bool // the choices are the languages
	text    *jump
	secret  bool // a typed answer that only a handoff carries: the state forgets it
	ind     *indicatorDoc
	brief   string // of a question, for the counsellors: what a "yes" would mean, in Greek
	cases   []branchCase
	handoff handoffDoc
	set     []string
	tier    int
	count   string // a statistic it counts (Counts)
	reason  string
	to      *jump
	buttons []Choice // Ask output, prepared once
	qid     string   // "flow.node", prepared once
	y       *yaml.Node
}

type choice struct {
	id    string
	label string
	set   []string
	to    *jump
}

type branchCase struct {
	cond   *vm.Program // nil: else, or a case that failed to compile
	isElse bool
	to     *jump
}

type param struct {
	name string
	prog *vm.Program
}

// jump is a resolved transition: node is where it leads, or end is set.
type jump struct {
	doc  jumpDoc
	node *node
	end  string
	y    *yaml.Node // the mapping that holds it
}

// env is what conditions and params see. Counts are derived from the answers.
type env struct {
	Answers   map[string]string `expr:"answers"`
	Flags     map[string]bool   `expr:"flags"`
	Lang      string            `expr:"lang"`
	Tier      int               `expr:"tier"`
	Score     int               `expr:"score"`     // sum of the weights of positive answers
	ClassI    int               `expr:"classI"`    // positive answers of class I (not freely agreed)
	ClassC    int               `expr:"classC"`    // positive answers of class C (coercion)
	Strong    int               `expr:"strong"`    // positive answers of weight 3 or more
	Positives int               `expr:"positives"` // positive answers
	Answered  int               `expr:"answered"`  // indicator questions answered
	OnDuty    int               `expr:"on_duty"`   // operators on duty (Input.OnDuty)
	InCase    bool              `expr:"in_case"`   // in an open case with a counsellor (Input.InCase)
	NoDesk    bool              `expr:"no_desk"`   // no counsellors at all (Input.NoDesk)
}

// Indicators lists the indicator codes the content lists (triggers.yaml), by code.
func (e *Engine) Indicators() []Indicator {
	var list []Indicator
	for _, code := range slices.Sorted(maps.Keys(e.indicators)) {
		ind := e.indicators[code]
		ind.Names = maps.Clone(ind.Names) // the engine's own stay unchanged
		list = append(list, ind)
	}
	return list
}

// Languages lists the languages of the content.
func (e *Engine) Languages() []string { return e.langs }

// Flows lists the flow ids, in file order.
func (e *Engine) Flows() []string {
	ids := make([]string, len(e.order))
	for i, f := range e.order {
		ids[i] = f.id
	}
	return ids
}

// File returns the file a flow was read from.
func (e *Engine) File(flow string) string {
	if f := e.flows[flow]; f != nil {
		return path.Clean(f.file)
	}
	return ""
}

// screens reports whether n is a screening question (Answer): it has an indicator, or a
// choice that sets a flag.
func (n *node) screens() bool {
	return n.ind != nil || slices.ContainsFunc(n.choices, func(c choice) bool { return len(c.set) > 0 })
}

// nodes yields every node, flow by flow in file order, and each flow's in file order.
func (e *Engine) nodes() iter.Seq[*node] {
	return func(yield func(*node) bool) {
		for _, f := range e.order {
			for _, n := range f.order {
				if !yield(n) {
					return
				}
			}
		}
	}
}
