package dialog

// Prepare computes, once, what Step and Vital would otherwise work out at every input: the
// urgent flows, each question's id and buttons, the secret questions, the buttons that pass
// the limits (vital.go) and every label folded in every language. It runs only on content
// that passed every check, and the Engine does not change after it.

// prepare computes what Step needs at every step, once.
func (e *Engine) prepare() {
	e.emergency.urgent = true
	e.commands["help"].urgent = true
	e.help.urgent = true
	for _, lang := range e.langs {
		e.labels[lang] = map[string]string{}
	}
	for n := range e.nodes() {
		if n.secret {
			e.secrets = append(e.secrets, n.id)
		}
		n.qid = n.flow.id + "." + n.id
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
	e.prepareVital()
	for n := range e.nodes() {
		for _, b := range n.buttons {
			for _, lang := range e.langs {
				text, _ := e.lex.Text(lang, b.Label)
				e.labels[lang][b.Label] = e.lex.Fold(text)
			}
		}
	}
	for _, lang := range e.langs {
		e.leaveLabels = append(e.leaveLabels, e.labels[lang][e.msg.leave])
	}
}
