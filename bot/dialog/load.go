package dialog

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	exprfile "github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// TriggersFile is the file of a flows directory that holds the global triggers; every other
// *.yaml file at the top of the directory is one flow.
const TriggersFile = "triggers.yaml"

// Commands are the commands every conversation understands, in every language (DESIGN.md).
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

type kind int

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

// loader collects problems while it builds an Engine.
type loader struct {
	e      *Engine
	probs  []Problem
	flags  map[string]bool  // every flag some choice or node sets
	briefs map[string]*node // the questions by brief: two alike would read as one in the packet
}

func (l *loader) at(file string, n *yaml.Node, format string, args ...any) {
	p := Problem{File: file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	l.probs = append(l.probs, p)
}

// Load reads the flows in fsys (TriggersFile and one flow per *.yaml file at its top), checks
// them against each other and against lex, and returns the Engine, or every Problem found.
func Load(fsys fs.FS, lex Lexicon) (*Engine, error) {
	l := &loader{e: &Engine{
		lex:       lex,
		langs:     lex.Languages(),
		flows:     map[string]*flow{},
		commands:  map[string]*flow{},
		questions: map[string]*node{},
		labels:    map[string]map[string]string{},
	}, flags: map[string]bool{}, briefs: map[string]*node{}}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(l.e.langs) == 0 {
		l.at("", nil, "no languages: the locales directory has no message files")
	}
	var trig *triggersDoc
	var trigY *yaml.Node
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		y, ps := yamlpos.Parse(name, data)
		var doc flowDoc
		switch {
		case ps != nil:
		case name == TriggersFile:
			trig, trigY = new(triggersDoc), y
			ps = yamlpos.Decode(name, y, trig)
		default:
			ps = yamlpos.Decode(name, y, &doc)
		}
		if len(ps) > 0 {
			l.probs = append(l.probs, ps...)
		} else if name != TriggersFile {
			l.addFlow(name, y, &doc)
		}
	}
	if !slices.Contains(names, TriggersFile) {
		l.at(TriggersFile, nil, "the file is missing: it names the entry flow, the commands and the emergency words")
	}
	if len(l.probs) > 0 {
		// A file that cannot be read would make every reference to it look broken too.
		return nil, l.sorted()
	}
	for _, f := range l.e.order {
		for _, n := range f.order {
			l.resolve(n)
		}
	}
	if trig != nil {
		l.triggers(trig, trigY)
	}
	for _, f := range l.e.order {
		for _, n := range f.order {
			l.check(n)
		}
	}
	if len(l.probs) == 0 {
		l.graph()
	}
	if len(l.probs) > 0 {
		return nil, l.sorted()
	}
	l.e.prepare()
	return l.e, nil
}

// sorted returns the problems in file and line order.
func (l *loader) sorted() Problems {
	ps := Problems(l.probs)
	ps.Sort()
	return ps
}

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
		n := &node{id: k.Value, flow: f, y: v, set: d.Set, tier: d.Tier, reason: d.Reason, ind: d.Indicator}
		if !ident.MatchString(n.id) {
			l.at(file, k, "the node id %q must be lower-case letters, digits and _", n.id)
		}
		l.build(n, d, k)
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

// triggers reads the triggers file.
func (l *loader) triggers(t *triggersDoc, y *yaml.Node) {
	vals, _ := yamlpos.Keyed(y)
	iv, _ := yamlpos.Keyed(vals["indicators"])
	for code, d := range t.Indicators {
		if !slices.Contains([]string{"labour", "sexual", "other"}, d.Kind) {
			l.at(TriggersFile, iv[code], "indicator %s: kind must be labour, sexual or other", code)
		}
		if d.El == "" || d.En == "" {
			l.at(TriggersFile, iv[code], "indicator %s needs its name for counsellors in Greek (el) and English (en)", code)
		}
		if l.e.indicators == nil {
			l.e.indicators = map[string]Indicator{}
		}
		l.e.indicators[code] = Indicator{Code: code, Kind: d.Kind, Names: map[string]string{"el": d.El, "en": d.En}}
	}
	flowAt := func(id string, at *yaml.Node, what string) *flow {
		if id == "" {
			l.at(TriggersFile, y, "%s is missing", what)
			return nil
		}
		f := l.e.flows[id]
		if f == nil {
			l.at(TriggersFile, at, "%s: there is no flow %q", what, id)
		}
		return f
	}
	l.e.entry = flowAt(t.Entry, vals["entry"], "entry")
	l.e.home = flowAt(t.Home, vals["home"], "home")
	cv, ck := yamlpos.Keyed(vals["commands"])
	for name, id := range t.Commands {
		if !slices.Contains(Commands, name) {
			l.at(TriggersFile, ck[name], "/%s is not a command of Faros (the commands are %s)", name, strings.Join(Commands, ", "))
			continue
		}
		if f := flowAt(id, cv[name], "/"+name); f != nil {
			l.e.commands[name] = f
		}
	}
	for _, name := range Commands {
		if _, ok := t.Commands[name]; !ok {
			l.at(TriggersFile, vals["commands"], "the command /%s needs a flow", name)
		}
	}
	ev, _ := yamlpos.Keyed(vals["emergency"])
	l.e.emergency = flowAt(t.Emergency.Flow, ev["flow"], "emergency flow")
	dv, _ := yamlpos.Keyed(vals["duress"])
	l.e.duress = flowAt(t.Duress.Flow, dv["flow"], "duress flow")
	hv, _ := yamlpos.Keyed(vals["help"])
	l.e.help = flowAt(t.Help.Flow, hv["flow"], "help flow")
	mv, _ := yamlpos.Keyed(vals["messages"])
	for _, m := range []struct {
		id, key string
		to      *string
		y       *yaml.Node
	}{
		{t.Emergency.Keywords, "emergency keywords", nil, ev["keywords"]},
		{t.Duress.Keywords, "duress keywords", nil, dv["keywords"]},
		{t.Help.Keywords, "help keywords", nil, hv["keywords"]},
		{t.Messages.Leave, "messages.leave", &l.e.msg.leave, mv["leave"]},
		{t.Messages.NotUnderstood, "messages.not_understood", &l.e.msg.notUnderstood, mv["not_understood"]},
		{t.Messages.Outdated, "messages.outdated", &l.e.msg.outdated, mv["outdated"]},
		{t.Messages.Restarted, "messages.restarted", &l.e.msg.restarted, mv["restarted"]},
		{t.Messages.LanguageName, "messages.language_name", &l.e.msg.languageName, mv["language_name"]},
	} {
		if m.id == "" {
			l.at(TriggersFile, y, "%s is missing", m.key)
			continue
		}
		if m.to != nil {
			*m.to = m.id
		}
		l.message(TriggersFile, m.y, m.id)
	}
	named := map[string]string{} // folded language name → the language
	for _, lang := range l.e.langs {
		text, _ := l.e.lex.Text(lang, l.e.msg.languageName)
		if other, dup := named[l.e.lex.Fold(text)]; dup && text != "" {
			l.at(TriggersFile, mv["language_name"], "the languages %s and %s have the same name %q (%s): a person choosing one could not tell them apart", other, lang, text, l.e.msg.languageName)
		}
		named[l.e.lex.Fold(text)] = lang
	}
	l.e.triggerWords = wordIndex{}
	l.phrases(t.Help.Keywords, Signals{Help: true})
	l.phrases(t.Emergency.Keywords, Signals{Emergency: true})
	l.phrases(t.Duress.Keywords, Signals{Duress: true})
}

// phrases indexes the comma-separated words of message id in every language, folded and
// split, as calling for sig.
func (l *loader) phrases(id string, sig Signals) {
	for _, lang := range l.e.langs {
		text, _ := l.e.lex.Text(lang, id)
		for _, k := range strings.Split(text, ",") {
			if words := strings.FieldsFunc(l.e.lex.Fold(k), isSeparator); len(words) > 0 {
				l.e.triggerWords.add(words, sig)
			}
		}
	}
}

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
	for _, f := range n.set {
		if !ident.MatchString(f) {
			l.at(file, vals["set"], "the flag %q must be lower-case letters, digits and _", f)
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
		for _, f := range c.set {
			if !ident.MatchString(f) {
				l.at(file, cv["set"], "the flag %q must be lower-case letters, digits and _", f)
			}
		}
	}
	counts := n.ind != nil || slices.ContainsFunc(n.choices, func(c choice) bool { return len(c.set) > 0 })
	switch other := l.briefs[n.brief]; {
	case counts && !n.secret && n.brief == "":
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
		if ind.Positive == "" {
			ind.Positive = "yes"
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
	for _, c := range n.choices {
		if c.id == id {
			return true
		}
	}
	return false
}

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

// graph reports unreachable flows and nodes, and loops that never wait for the person.
func (l *loader) graph() {
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
	visit(e.entry.start)
	visit(e.home.start)
	visit(e.emergency.start)
	visit(e.duress.start)
	visit(e.help.start)
	for _, f := range e.commands {
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
	for _, f := range e.order {
		for _, n := range f.order {
			if state[n] == 0 {
				dfs(n)
			}
		}
	}
}

// prepare computes what Step needs at every step, once.
func (e *Engine) prepare() {
	e.emergency.urgent = true
	e.commands["help"].urgent = true
	e.help.urgent = true
	for _, lang := range e.langs {
		e.labels[lang] = map[string]string{}
	}
	for _, f := range e.order {
		for _, n := range f.order {
			if n.secret {
				e.secrets = append(e.secrets, n.id)
			}
			n.qid = f.id + "." + n.id
			if n.kind != kAsk {
				continue
			}
			if n.langs {
				for _, lang := range e.langs {
					n.buttons = append(n.buttons, Choice{ID: lang, Label: e.msg.languageName, Lang: lang})
				}
			} else {
				for _, c := range n.choices {
					n.buttons = append(n.buttons, Choice{ID: c.id, Label: c.label})
				}
			}
			n.buttons = append(n.buttons, Choice{ID: Leave, Label: e.msg.leave})
		}
	}
	e.prepareVital()
	for _, f := range e.order {
		for _, n := range f.order {
			for _, b := range n.buttons {
				for _, lang := range e.langs {
					text, _ := e.lex.Text(lang, b.Label)
					e.labels[lang][b.Label] = e.lex.Fold(text)
				}
			}
		}
	}
	for _, lang := range e.langs {
		e.leaveLabels = append(e.leaveLabels, e.labels[lang][e.msg.leave])
	}
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
