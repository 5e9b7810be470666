package dialog

// Triggers reads triggers.yaml: the flows that start from anywhere, the words that open them,
// the indicator codes and the engine's own messages. It guarantees the phases after it: the
// entry, home, command, emergency, duress and help flows are set, or a problem says which is
// missing; l.e.indicators lists the codes (nil when the file lists none: then any code goes);
// l.e.msg holds the messages' ids, and l.e.triggerWords the trigger words of every language.

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// triggers reads the triggers file.
func (l *loader) triggers(t *triggersDoc, y *yaml.Node) {
	vals, _ := yamlpos.Keyed(y)
	l.order(t.Languages, vals["languages"])
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

// order puts the languages listed first, in their order; the others follow as they were.
func (l *loader) order(listed []string, y *yaml.Node) {
	items := yamlpos.Items(y)
	var langs []string
	for i, lang := range listed {
		switch {
		case !slices.Contains(l.e.langs, lang):
			l.at(TriggersFile, items[i], "languages: %q has no message file that loads (locales/%s.yaml)", lang, lang)
		case slices.Contains(langs, lang):
			l.at(TriggersFile, items[i], "languages: %q is listed twice", lang)
		default:
			langs = append(langs, lang)
		}
	}
	for _, lang := range l.e.langs {
		if !slices.Contains(langs, lang) {
			langs = append(langs, lang)
		}
	}
	l.e.langs = langs
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
