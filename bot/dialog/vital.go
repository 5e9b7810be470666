package dialog

import "slices"

// Vital reports whether an input must pass every rate limit and intake check: refusing it
// could leave someone in danger without the numbers, or unable to leave. Vital are the
// commands /help, /stop and /wipe; the leave-now button, or its label typed; a button that
// leaves or deletes the conversation (the one after /help); any button of the emergency and
// help flows ("talk to someone now"); typed text holding a help, emergency or duress word.
// It needs no state, so the host can ask before it reads the conversation, and it costs a
// map lookup for a button, one fold for typed text.
func (e *Engine) Vital(in Input) bool {
	in.Text = clip(in.Text)
	c := in.Command
	if c == "" {
		c = Command(in.Text)
	}
	switch c {
	case "help", "stop", "wipe":
		return true
	case "":
	default:
		return false // another command: Step reads nothing after it
	}
	if in.Choice == Leave || e.vital[button{in.Question, in.Choice}] {
		return true
	}
	if in.Text == "" {
		return false
	}
	folded := e.lex.Fold(in.Text)
	if s := e.signals(folded); s.Help || s.Emergency || s.Duress {
		return true
	}
	return slices.Contains(e.leaveLabels, folded)
}

// prepareVital finds the buttons Vital lets through, by the question they are shown with:
// every button of the emergency and help flows, and every button that leads to the flow of
// /stop or /wipe or ends the conversation itself. It runs after the buttons are prepared.
func (e *Engine) prepareVital() {
	stop, wipe := e.commands["stop"], e.commands["wipe"]
	leaves := func(j *jump) bool {
		switch {
		case j == nil:
			return false
		case j.node != nil:
			return j.node.flow == stop || j.node.flow == wipe
		}
		return j.end == "stop" || j.end == "wipe"
	}
	e.vital = map[button]bool{}
	for _, f := range e.order {
		urgent := f == e.emergency || f == e.help || f == e.commands["help"]
		for _, n := range f.order {
			if n.kind != kAsk {
				continue
			}
			if urgent {
				for _, b := range n.buttons {
					e.vital[button{n.qid, b.ID}] = true
				}
			}
			for _, c := range n.choices {
				to := c.to
				if to == nil {
					to = n.to
				}
				if leaves(to) {
					e.vital[button{n.qid, c.id}] = true
				}
			}
		}
	}
}
