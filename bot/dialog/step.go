package dialog

// Step applies one input to a conversation: the command or word it is, where it leads (react),
// and the walk through the nodes until one asks or the conversation ends; Jump starts a flow
// from outside. What the answers add up to is answers.go's.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/expr-lang/expr"
)

// MaxHops bounds the nodes one Step may pass through. Load rejects loops that never ask, so
// only a bug can reach it; it turns such a bug into an error instead of a hung process.
const MaxHops = 1000

// ErrLoop is returned when a Step passes MaxHops nodes without stopping to ask.
var ErrLoop = errors.New("dialog: the flow passed too many nodes without asking")

// Step applies one input to a conversation and returns its new state and what to show.
// It never modifies s's maps. Typed text that starts with "/" and names a command is the
// command; an emergency word in typed text opens the emergency flow from anywhere, a help
// word the help flow. Only the first MaxText characters of typed text are read.
func (e *Engine) Step(s State, in Input) (State, []Output, error) {
	r := &run{e: e, s: s, out: make([]Output, 0, 4), onDuty: in.OnDuty, inCase: in.InCase, noDesk: in.NoDesk}
	in.Text = clip(in.Text)
	if typed := commandText(in.Text); in.Command == "" && strings.HasPrefix(typed, "/") {
		if c := commandName(typed); e.commands[c] != nil {
			in.Command, in.Text = c, ""
		}
	}
	next, err := r.react(in)
	if err == nil {
		err = r.walk(next)
	}
	if err != nil {
		return s, nil, err
	}
	r.forgetSecrets()
	return r.s, r.out, nil
}

// forgetSecrets takes the answers of secret questions out of the state: only a handoff of
// this step carries them on.
func (r *run) forgetSecrets() {
	for _, q := range r.e.secrets {
		if _, ok := r.s.Answers[q]; !ok {
			continue
		}
		r.own()
		delete(r.s.Answers, q)
	}
}

// Command returns the command typed text sends ("help" for "/help", "/HELP" or
// "/help@faros_bot"), or "" if it sends none of Commands.
func Command(text string) string {
	text = commandText(text)
	if !strings.HasPrefix(text, "/") {
		return ""
	}
	if c := commandName(text); slices.Contains(Commands, c) {
		return c
	}
	return ""
}

// commandText is typed text without the spaces and invisible marks before it: a /command
// copied from a right-to-left message brings its direction marks along ("\u200f\u200e/stop").
func commandText(text string) string {
	return strings.TrimLeftFunc(text, invisibleOrSpace)
}

// commandName reads "/help", "/HELP" or "/help@faros_bot" as "help". The name ends at the
// first space or invisible mark: "/stop\u200f" from right-to-left text is "stop".
func commandName(text string) string {
	text = strings.TrimPrefix(text, "/")
	if end := strings.IndexFunc(text, invisibleOrSpace); end >= 0 {
		text = text[:end]
	}
	word, _, _ := strings.Cut(text, "@")
	return strings.ToLower(word)
}

func invisibleOrSpace(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

// run is one Step in progress.
type run struct {
	e         *Engine
	s         State
	out       []Output
	ownedMaps bool // s.Answers and s.Flags are copies this run may change
	urgent    bool // the node being visited belongs to an urgent flow
	onDuty    int
	inCase    bool
	noDesk    bool
}

// react decides where the input leads: the node to walk from, or nil to stop.
func (r *run) react(in Input) (*node, error) {
	e := r.e
	cur := r.current()
	folded, sig := "", Signals{}
	if in.Text != "" {
		folded = e.lex.Fold(in.Text)
		sig = e.signals(folded)
	}
	switch {
	case in.Command != "":
		f := e.commands[in.Command]
		if f == nil {
			return nil, fmt.Errorf("dialog: unknown command %q", in.Command)
		}
		switch in.Command {
		case "start":
			r.s = State{Lang: r.s.Lang}
		case "help":
			r.numbers(cur)
		default:
			r.again()
			r.interrupt(cur)
		}
		return f.start, nil
	case in.Choice == Leave:
		r.interrupt(cur)
		return e.commands["stop"].start, nil
	case sig.Duress:
		// Someone may be watching: an innocent answer, the question still waiting.
		return e.duress.start, nil
	case sig.Emergency:
		r.numbers(cur)
		return e.emergency.start, nil
	case sig.Help && !r.isLabel(cur, folded):
		// As /help. A label that holds a help word ("Phone numbers for help") is its answer.
		r.numbers(cur)
		return e.help.start, nil
	case r.s.Ended || r.s.Node == "":
		r.s = State{Lang: r.s.Lang}
		return e.entry.start, nil
	case cur == nil:
		// The content changed under this conversation: start its flow again, kindly.
		r.say(e.msg.restarted, nil)
		r.s.Back = ""
		if f := e.flows[r.s.Flow]; f != nil {
			return f.start, nil
		}
		return e.entry.start, nil
	case in.Choice != "":
		if in.Question != "" && in.Question != cur.qid {
			r.say(e.msg.outdated, nil)
			return cur, nil
		}
		if cur.langs && slices.Contains(e.langs, in.Choice) {
			return r.chooseLanguage(cur, in.Choice), nil
		}
		for i := range cur.choices {
			if cur.choices[i].id == in.Choice {
				return r.choose(cur, &cur.choices[i]), nil
			}
		}
		r.say(e.msg.outdated, nil)
		return cur, nil
	case in.Text != "":
		return r.typed(cur, in.Text, folded), nil
	}
	return cur, nil // nothing to react to: ask again
}

// typed matches typed text to an answer of cur, by the folded label in the person's language.
func (r *run) typed(cur *node, text, folded string) *node {
	lang, i := r.label(cur, folded)
	switch {
	case lang != "":
		return r.chooseLanguage(cur, lang)
	case i >= 0 && cur.buttons[i].ID == Leave:
		return r.e.commands["stop"].start
	case i >= 0:
		return r.choose(cur, &cur.choices[i])
	case cur.text != nil:
		r.answer(cur.id, strings.TrimSpace(text))
		return r.jump(cur.text)
	}
	r.say(r.e.msg.notUnderstood, nil)
	return cur
}

// label finds what folded typed text names among cur's buttons, in the person's language
// (in any while none is chosen): it returns a language of a language question, or else the
// index of a button in cur.buttons; "" and -1 if nothing.
func (r *run) label(cur *node, folded string) (string, int) {
	e := r.e
	if cur.langs {
		for _, lang := range e.langs {
			if folded == lang || folded == e.labels[lang][e.msg.languageName] {
				return lang, -1
			}
		}
	}
	for i, b := range cur.buttons {
		if b.Lang != "" {
			continue
		}
		for _, lang := range e.langs {
			// Leave now is understood in every language, as Vital lets it through: a person in a
			// hurry may type it in the language they know best.
			mine := r.s.Lang == "" || lang == r.s.Lang || b.ID == Leave
			if mine && folded != "" && folded == e.labels[lang][b.Label] {
				return "", i
			}
		}
	}
	return "", -1
}

// isLabel reports whether folded typed text names a button of the question waiting.
func (r *run) isLabel(cur *node, folded string) bool {
	if cur == nil {
		return false
	}
	lang, i := r.label(cur, folded)
	return lang != "" || i >= 0
}

// numbers prepares the conversation for the help or the emergency flow, opened by a command
// or a word: they interrupt the question waiting. A conversation that has not started, or has
// ended, starts afresh with its beginning to go back to: "Go back" then asks the language
// and the safety question, rather than showing the menu to someone who saw neither.
func (r *run) numbers(cur *node) {
	if r.s.Ended || r.s.Node == "" {
		r.s = State{Lang: r.s.Lang, Back: r.e.entry.id + "." + r.e.entry.start.id}
		return
	}
	r.interrupt(cur)
}

// again starts an ended conversation afresh, keeping its language, before a command or a
// trigger word opens a flow in it: as any other input would. Otherwise the buttons of that
// flow would find the conversation still ended (after /stop, the button of /help that
// deletes the conversation would restart it instead).
func (r *run) again() {
	if r.s.Ended {
		r.s = State{Lang: r.s.Lang}
	}
}

func (r *run) choose(cur *node, c *choice) *node {
	r.answer(cur.id, c.id)
	r.flag(c.set)
	if c.to != nil {
		return r.jump(c.to)
	}
	return r.jump(cur.to)
}

func (r *run) chooseLanguage(cur *node, lang string) *node {
	r.s.Lang = lang
	r.out = append(r.out, Output{Kind: SetLanguage, Lang: lang})
	return r.jump(cur.to)
}

// interrupt remembers the question a command or an emergency word interrupts, so that
// "end: resume" can ask it again.
func (r *run) interrupt(cur *node) {
	if cur != nil && r.s.Back == "" {
		r.s.Back = cur.flow.id + "." + cur.id
	}
}

// current is the question waiting for an answer, nil if none or if it no longer exists.
func (r *run) current() *node {
	if f := r.e.flows[r.s.Flow]; f != nil {
		if n := f.nodes[r.s.Node]; n != nil && n.kind == kAsk {
			return n
		}
	}
	return nil
}

// walk visits nodes from n until one asks or the conversation ends.
func (r *run) walk(n *node) error {
	for hops := 0; n != nil; hops++ {
		if hops == MaxHops {
			return ErrLoop
		}
		var err error
		if n, err = r.visit(n); err != nil {
			return fmt.Errorf("%s.%s: %w", n.flow.id, n.id, err)
		}
	}
	return nil
}

// visit does what node n does and returns the next node, or nil to stop.
func (r *run) visit(n *node) (*node, error) {
	r.flag(n.set)
	if n.tier > r.s.Tier {
		r.s.Tier, r.s.Reason = n.tier, n.reason
	}
	if n.count != "" {
		o := Output{Kind: Count, Msg: n.count, Tier: n.tier} // the node's own: what this screening found
		if n.count == "screened" {
			o.Indicators, o.Answers = r.indicators(), r.answers()
		}
		r.out = append(r.out, o)
	}
	r.urgent = n.flow.urgent
	switch n.kind {
	case kSay:
		params, err := r.params(n)
		if err != nil {
			return n, err
		}
		r.say(n.msg, params)
	case kAsk:
		o := Output{Kind: Ask, Lang: r.s.Lang, Msg: n.msg, Choices: n.buttons, Text: n.text != nil, Question: n.qid, Urgent: r.isUrgent()}
		if n.langs {
			o.Lang = "" // the language question speaks every language
		}
		r.out = append(r.out, o)
		r.s.Flow, r.s.Node = n.flow.id, n.id
		return nil, nil
	case kBranch:
		env := r.env()
		for _, c := range n.cases {
			if c.cond == nil {
				return r.jump(c.to), nil
			}
			ok, err := expr.Run(c.cond, env)
			if err != nil {
				return n, err
			}
			if ok == true {
				return r.jump(c.to), nil
			}
		}
		return nil, nil // unreachable: Load requires a fallback
	case kHandoff:
		o := Output{Kind: Handoff, Tier: n.handoff.Tier, Reason: n.handoff.Reason, Indicators: r.indicators(), Answers: r.answers()}
		for _, q := range r.e.secrets {
			if a, ok := r.s.Answers[q]; ok && a != "" {
				if o.Secrets == nil {
					o.Secrets = map[string]string{}
				}
				o.Secrets[q] = a
			}
		}
		if r.s.Tier >= o.Tier && r.s.Reason != "" {
			o.Tier, o.Reason = r.s.Tier, r.s.Reason
		}
		r.out = append(r.out, o)
	}
	return r.jump(n.to), nil
}

// jump follows a transition; it returns nil when the conversation stops.
func (r *run) jump(j *jump) *node {
	switch {
	case j == nil:
		return nil
	case j.node != nil:
		if j.doc.Goto != "" {
			r.s.Back = "" // a new path: the interrupted question is left behind
		}
		return j.node
	}
	switch j.end {
	case "wait": // the question that was waiting still waits
		r.s.Back = ""
		return nil
	case "resume":
		back := r.s.Back
		r.s.Back = ""
		if fid, nid, ok := strings.Cut(back, "."); ok {
			if f := r.e.flows[fid]; f != nil && f.nodes[nid] != nil {
				return f.nodes[nid]
			}
		}
		return r.e.home.start
	case "wipe":
		r.out = append(r.out, Output{Kind: End, Wipe: true})
		r.s = State{Ended: true}
	default: // stop
		r.out = append(r.out, Output{Kind: End})
		r.s = State{Lang: r.s.Lang, Ended: true}
	}
	return nil
}

func (r *run) say(msg string, params map[string]any) {
	r.out = append(r.out, Output{Kind: Say, Lang: r.s.Lang, Msg: msg, Params: params, Urgent: r.isUrgent()})
}

func (r *run) isUrgent() bool { return r.urgent || r.s.Tier >= 3 }

// Jump moves a conversation to the start of a flow, as a goto would: the host's way back
// into the dialogue after something outside it, such as the end of a talk with an operator.
func (e *Engine) Jump(s State, flow string) (State, []Output, error) {
	f := e.flows[flow]
	if f == nil {
		return s, nil, fmt.Errorf("dialog: there is no flow %q", flow)
	}
	r := &run{e: e, s: s, out: make([]Output, 0, 4)}
	r.s.Back, r.s.Ended = "", false
	if err := r.walk(f.start); err != nil {
		return s, nil, err
	}
	return r.s, r.out, nil
}
