package dialog

import "slices"

// Vital says whether an input must get through the limits a host sets against floods, and
// how: refusing it could leave someone in danger without the numbers, unable to leave, or
// exposed to whoever watches them.
type Vital int

const (
	// Ordinary inputs are limited like any other.
	Ordinary Vital = iota
	// AsksForHelp: /help, a help or emergency word, any button of the emergency and help flows
	// ("talk to someone now"). A host may limit a flood of them only by answering with the
	// numbers all the same.
	AsksForHelp
	// Watched: the duress word. Its answer must be the innocent one, never a notice or the
	// numbers: a host may limit a flood of it only by answering innocently all the same.
	Watched
	// MustPass: /stop, /wipe, the leave-now button or its label typed, a button that leaves or
	// deletes the conversation. They delete what there is: never limited.
	MustPass
)

// Vital reports whether and how an input must pass the limits. It needs no state, so the host
// can ask before it reads the conversation, and it costs a map lookup for a button, one fold
// for typed text.
func (e *Engine) Vital(in Input) Vital {
	in.Text = clip(in.Text)
	c := in.Command
	if c == "" {
		c = Command(in.Text)
	}
	switch c {
	case "help":
		return AsksForHelp
	case "stop", "wipe":
		return MustPass
	case "":
	default:
		return Ordinary // another command: Step reads nothing after it
	}
	if in.Choice == Leave {
		return MustPass
	}
	if v := e.vital[button{in.Question, in.Choice}]; v != Ordinary {
		return v
	}
	if in.Text == "" {
		return Ordinary
	}
	folded := e.lex.Fold(in.Text)
	switch s := e.signals(folded); {
	case slices.Contains(e.leaveLabels, folded):
		return MustPass
	case s.Duress:
		return Watched
	case s.Help || s.Emergency:
		return AsksForHelp
	}
	return Ordinary
}

// prepareVital finds the buttons Vital lets through, by the question they are shown with:
// every button that leads to the flow of /stop or /wipe or ends the conversation itself, and
// every other button of the urgent flows (the emergency and help flows, and /help's). It runs
// after the buttons are prepared and the urgent flows marked.
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
	e.vital = map[button]Vital{}
	for n := range e.nodes() {
		if n.kind != kAsk {
			continue
		}
		if n.flow.urgent {
			for _, b := range n.buttons {
				e.vital[button{n.qid, b.ID}] = AsksForHelp
			}
		}
		for _, c := range n.choices {
			to := c.to
			if to == nil {
				to = n.to
			}
			if leaves(to) {
				e.vital[button{n.qid, c.id}] = MustPass
			}
		}
	}
}
