package dialog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
)

const baseTriggers = `entry: main
home: main
commands: {start: main, language: main, help: main, stop: main, wipe: main}
emergency: {keywords: kw, flow: main}
messages: {not_understood: nu, outdated: od, restarted: rs, language_name: ln, leave: lv}
duress: {keywords: kw2, flow: main}
help: {keywords: kw3, flow: main}
`

const baseMain = `id: main
start: q
nodes:
  q:
    ask: m_q
    choices:
      - {id: "yes", label: m_yes, next: done}
      - {id: "no", label: m_no, next: q}
  done:
    say: m_done
    end: stop
`

// content is the base flows with some files replaced (an empty text removes a file).
func content(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"triggers.yaml": {Data: []byte(baseTriggers)},
		"main.yaml":     {Data: []byte(baseMain)},
	}
	for name, text := range files {
		if text == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}

func TestLoadValid(t *testing.T) {
	e, err := dialog.Load(content(nil), newWords())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := e.Stats(), (dialog.Stats{Flows: 1, Nodes: 2, Questions: 1}); got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}
}

// TestLoadProblems holds one broken fixture for every kind of problem the validator reports,
// with the file, line, column and sentence an editor reads.
func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		lex   func(w words) words
		want  []string
	}{
		{
			name:  "yaml syntax",
			files: map[string]string{"main.yaml": "id: main\nstart: q\nnodes:\n  q: [ask, \n  done: {say: x\n"},
			want:  []string{"main.yaml:4:3: YAML syntax: did not find expected ',' or '}'"},
		},
		{
			name:  "unknown key",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    nxt: q\n    end: stop")},
			want:  []string{`main.yaml:11:5: unknown key "nxt" (did you mean "next"?)`},
		},
		{
			name:  "unknown key far from any",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    colour: red\n    end: stop")},
			want:  []string{`main.yaml:11:5: unknown key "colour" (known keys: ask, branch, brief, choices, count, end, goto, handoff, indicator, languages, next, params, reason, say, secret, set, text, tier)`},
		},
		{
			name:  "wrong type",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    tier: high\n    end: stop")},
			want:  []string{`main.yaml:11:11: "tier" must be a whole number`},
		},
		{
			name:  "list expected",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    set: minor\n    end: stop")},
			want:  []string{`main.yaml:11:10: "set" must be a list`},
		},
		{
			name:  "key written twice",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    end: stop\n    end: wipe")},
			want:  []string{`main.yaml:12:5: the key "end" is already defined on line 11: keep one of the two`},
		},
		{
			name:  "node written twice",
			files: map[string]string{"main.yaml": baseMain + "  done:\n    say: m_x\n    end: stop\n"},
			want:  []string{`main.yaml:12:3: the key "done" is already defined on line 9: keep one of the two`},
		},
		{
			name:  "a line indented too little in the middle of a flow",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "   end: stop")},
			want:  []string{"main.yaml:11:4: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)"},
		},
		{
			name:  "a line indented too much in the middle of a flow",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "      end: stop")},
			want:  []string{"main.yaml:11:7: YAML syntax: mapping values are not allowed in this context: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)"},
		},
		{
			name:  "a choice indented too little",
			files: map[string]string{"main.yaml": replace(baseMain, `      - {id: "no"`, `     - {id: "no"`)},
			want:  []string{"main.yaml:8:6: YAML syntax: did not find expected key: this line is not indented like the lines it belongs with (use spaces, as many as the keys above it)"},
		},
		{
			name:  "next to a missing node",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done", "next: dome")},
			want:  []string{`main.yaml:7:41: next: there is no node "dome" in the flow "main" (did you mean "done"?)`},
		},
		{
			name:  "goto a missing flow",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done", "goto: info")},
			want:  []string{`main.yaml:7:41: goto: there is no flow "info"`},
		},
		{
			name:  "goto a missing node",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done", "goto: main.nope")},
			want:  []string{`main.yaml:7:41: goto: there is no node "nope" in the flow "main"`},
		},
		{
			name:  "start missing",
			files: map[string]string{"main.yaml": replace(baseMain, "start: q", "start: begin")},
			want:  []string{`main.yaml:2:8: start: there is no node "begin" in this flow`},
		},
		{
			name:  "unknown end",
			files: map[string]string{"main.yaml": replace(baseMain, "end: stop", "end: finish")},
			want:  []string{`main.yaml:11:10: end: "finish" is not one of stop, wipe, resume, wait`},
		},
		{
			name:  "two transitions",
			files: map[string]string{"main.yaml": replace(baseMain, "end: stop", "end: stop\n    next: q")},
			want:  []string{`main.yaml:10:5: write only one of "next", "goto" and "end"`},
		},
		{
			name:  "unreachable node",
			files: map[string]string{"main.yaml": baseMain + "  lost:\n    say: m_x\n    next: q\n"},
			want:  []string{`main.yaml:13:5: the node "lost" is never reached: nothing leads to it`},
		},
		{
			name:  "unreachable flow",
			files: map[string]string{"extra.yaml": "id: extra\nstart: a\nnodes:\n  a:\n    say: m_x\n    goto: main\n"},
			want:  []string{`extra.yaml:1:1: the flow "extra" is never reached: no trigger, goto or command leads to it`},
		},
		{
			name:  "duplicate flow id",
			files: map[string]string{"copy.yaml": baseMain},
			want:  []string{`main.yaml:1:5: the flow id "main" is already used by copy.yaml`},
		},
		{
			name:  "duplicate question id",
			files: map[string]string{"other.yaml": "id: other\nstart: q\nnodes:\n  q:\n    ask: m_q\n    choices: [{id: a, label: m_yes}]\n    goto: main\n", "main.yaml": replace(baseMain, "next: done}", "goto: other}\n      - {id: more, label: m_yes, next: done}")},
			want:  []string{`other.yaml:5:5: the question id "q" is also used in main.yaml: answers are kept under the question id, so it must be unique`},
		},
		{
			name:  "duplicate choice id",
			files: map[string]string{"main.yaml": replace(baseMain, `{id: "no", label: m_no, next: q}`, `{id: "yes", label: m_no, next: q}`)},
			want:  []string{`main.yaml:8:14: the choice id "yes" is used twice in this question`},
		},
		{
			name:  "branch without fallback",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"answers.q == 'yes'\", next: done}\n"},
			want:  []string{`main.yaml:14:9: the branch has no fallback: end it with "- else: true" and where to go when no condition holds`},
		},
		{
			name:  "condition does not compile",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"score >= \", next: done}\n      - {else: true, next: done}\n"},
			want:  []string{`main.yaml:14:25: the condition "score >= " does not work: unexpected token EOF`},
		},
		{
			name:  "condition of the wrong type",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"score + 1\", next: done}\n      - {else: true, next: done}\n"},
			want:  []string{`main.yaml:14:16: the condition "score + 1" does not work: expected bool, but got int`},
		},
		{
			name:  "condition names an unknown answer",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"answers.dept == 'yes'\", next: done}\n      - {else: true, next: done}\n"},
			want:  []string{`main.yaml:14:16: the condition names the answer "dept", but there is no question "dept"`},
		},
		{
			name:  "condition names an answer the question does not have",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"answers.q == 'Yes'\", next: done}\n      - {else: true, next: done}\n"},
			want:  []string{`main.yaml:14:16: the question "q" has no answer "Yes"`},
		},
		{
			name:  "condition names an unknown flag",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {when: \"flags.minor\", next: done}\n      - {else: true, next: done}\n"},
			want:  []string{`main.yaml:14:16: the condition names the flag "minor", but no choice or node sets it`},
		},
		{
			name:  "case after else",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {else: true, next: done}\n      - {when: \"score > 1\", next: done}\n"},
			want: []string{
				`main.yaml:15:9: this case comes after "else" and can never be chosen`,
				`main.yaml:15:9: the branch has no fallback: end it with "- else: true" and where to go when no condition holds`,
			},
		},
		{
			name:  "loop without a question",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: a}") + "  a:\n    say: m_x\n    next: b\n  b:\n    branch:\n      - {when: \"score > 1\", next: done}\n      - {else: true, next: a}\n"},
			want:  []string{`main.yaml:13:5: these nodes lead to each other without asking anything, so the conversation would never stop: main.a → main.b → main.a`},
		},
		{
			name: "message missing in a language",
			lex:  func(w words) words { delete(w.texts["fr"], "m_done"); return w },
			want: []string{`main.yaml:10:10: the message "m_done" is missing in fr`},
		},
		{
			name:  "two kinds in one node",
			files: map[string]string{"main.yaml": replace(baseMain, "    say: m_done", "    say: m_done\n    ask: m_q")},
			want:  []string{`main.yaml:9:3: the node "done" does say and ask: a node does one of say, ask, branch or handoff`},
		},
		{
			name:  "say without a transition",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop\n", "")},
			want:  []string{`main.yaml:10:5: after "say" the node "done" needs "next", "goto" or "end"`},
		},
		{
			name:  "choice leads nowhere",
			files: map[string]string{"main.yaml": replace(baseMain, `{id: "no", label: m_no, next: q}`, `{id: "no", label: m_no}`)},
			want:  []string{`main.yaml:8:9: the choice "no" leads nowhere: give it "next", "goto" or "end", or give the question one`},
		},
		{
			name: "indicator codes listed in triggers.yaml",
			files: map[string]string{
				"triggers.yaml": baseTriggers + "indicators:\n  debt: {kind: labour, el: \"χρέος\", en: \"debt\"}\n  isolation: {kind: lonely, el: \"\", en: \"isolation\"}\n",
				"main.yaml":     replace(baseMain, "    ask: m_q\n", "    ask: m_q\n    brief: απειλές\n    indicator: {code: threats, weight: 3}\n"),
			},
			want: []string{
				`main.yaml:7:23: indicator code "threats" is not in triggers.yaml's indicators: add it there, with its kind and names`,
				`triggers.yaml:10:14: indicator isolation: kind must be labour, sexual or other`,
				`triggers.yaml:10:14: indicator isolation needs its name for counsellors in Greek (el) and English (en)`,
			},
		},
		{
			name:  "indicator with a positive answer that is not a choice",
			files: map[string]string{"main.yaml": replace(baseMain, "    ask: m_q\n", "    ask: m_q\n    brief: χρέος\n    indicator: {code: debt, class: X, weight: 3, positive: si}\n")},
			want: []string{
				`main.yaml:7:16: the positive answer "si" is not one of this question's choices`,
				`main.yaml:7:36: class must be I (not freely agreed) or C (coercion), or left out`,
			},
		},
		{
			name: "screening questions without a brief, or with another's",
			files: map[string]string{"main.yaml": replace(baseMain, "    ask: m_q\n", "    ask: m_q\n    indicator: {code: debt, weight: 3}\n") +
				"  other:\n    ask: m_x\n    brief: χρέος\n    indicator: {code: debt, weight: 1}\n    choices: [{id: \"yes\", label: m_yes, end: stop}]\n" +
				"  third:\n    ask: m_x\n    brief: χρέος\n    choices: [{id: \"yes\", label: m_yes, set: [owed], end: stop}]\n"},
			want: []string{
				`main.yaml:5:5: the question "q" counts in the screening: give it a "brief", what a "yes" would mean in a few Greek words, for the counsellors' packet`,
				`main.yaml:20:12: the brief "χρέος" is also the question "other"'s (main.yaml:14): each question needs its own`,
			},
		},
		{
			name:  "a brief on what is not a question",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    brief: χρέος\n    end: stop")},
			want:  []string{`main.yaml:11:12: brief: only a question (ask) has words for the counsellors' packet`},
		},
		{
			name:  "flow without id",
			files: map[string]string{"main.yaml": replace(baseMain, "id: main\n", "")},
			want:  []string{`main.yaml:1:1: the flow needs an "id"`},
		},
		{
			name:  "node that does nothing",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    end: stop\n  idle: {}")},
			want:  []string{`main.yaml:12:9: the node "idle" does nothing: give it "say", "ask", "branch", "handoff" or a transition`},
		},
		{
			name:  "question without answers",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: other}") + "  other:\n    ask: m_x\n"},
			want:  []string{`main.yaml:13:5: the question "other" needs "choices", "languages: true" or "text"`},
		},
		{
			name:  "choices on a message",
			files: map[string]string{"main.yaml": replace(baseMain, "    end: stop", "    end: stop\n    choices: [{id: a, label: m_yes}]")},
			want:  []string{`main.yaml:12:5: "choices" belongs to a question (a node with "ask")`},
		},
		{
			name:  "language question with choices",
			files: map[string]string{"main.yaml": replace(baseMain, "    ask: m_q\n", "    ask: m_q\n    languages: true\n")},
			want:  []string{`main.yaml:6:5: a language question makes its own choices: remove "choices"`},
		},
		{
			name:  "handoff tier out of range",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: pass}") + "  pass:\n    handoff: {tier: 4, reason: asked}\n    next: done\n"},
			want:  []string{`main.yaml:13:14: handoff: tier must be 1, 2 or 3`},
		},
		{
			name:  "branch with a transition of its own",
			files: map[string]string{"main.yaml": replace(baseMain, "next: done}", "next: check}") + "  check:\n    branch:\n      - {else: true, next: done}\n    next: q\n"},
			want:  []string{`main.yaml:13:5: a branch chooses its own way: write "next" in its cases, not on the node`},
		},
		{
			name:  "param that does not compile",
			files: map[string]string{"main.yaml": replace(baseMain, "    say: m_done\n", "    say: m_done\n    params: {Count: \"answered +\"}\n")},
			want:  []string{`main.yaml:11:31: the value "answered +" does not work: unexpected token EOF`},
		},
		{
			name:  "choice without a label",
			files: map[string]string{"main.yaml": replace(baseMain, `{id: "no", label: m_no, next: q}`, `{id: "no", next: q}`)},
			want:  []string{`main.yaml:8:9: the choice "no" needs a "label" (a message id)`},
		},
		{
			name:  "secret question without text",
			files: map[string]string{"main.yaml": replace(baseMain, "    ask: m_q\n", "    ask: m_q\n    secret: true\n")},
			want:  []string{`main.yaml:6:5: only a question with "text" can be secret: its typed answer is the secret`},
		},
		{
			name:  "the leave-now id",
			files: map[string]string{"main.yaml": replace(baseMain, `{id: "no", label: m_no, next: q}`, `{id: stop, label: m_no, next: q}`)},
			want:  []string{`main.yaml:8:14: the choice id "stop" is the leave-now button every question already has`},
		},
		{
			name:  "empty file",
			files: map[string]string{"main.yaml": "# nothing yet\n"},
			want:  []string{`main.yaml: the file is empty`},
		},
		{
			name:  "unknown command",
			files: map[string]string{"triggers.yaml": replace(baseTriggers, "wipe: main}", "wipe: main, quit: main}")},
			want:  []string{`triggers.yaml:3:77: /quit is not a command of Faros (the commands are start, language, help, stop, wipe)`},
		},
		{
			name:  "command without a flow",
			files: map[string]string{"triggers.yaml": replace(baseTriggers, "help: main, ", "")},
			want:  []string{`triggers.yaml:3:11: the command /help needs a flow`},
		},
		{
			name:  "help trigger missing",
			files: map[string]string{"triggers.yaml": replace(baseTriggers, "help: {keywords: kw3, flow: main}\n", "")},
			want:  []string{`triggers.yaml:1:1: help flow is missing`, `triggers.yaml:1:1: help keywords is missing`},
		},
		{
			name:  "help trigger to a missing flow",
			files: map[string]string{"triggers.yaml": replace(baseTriggers, "kw3, flow: main}", "kw3, flow: nope}")},
			want:  []string{`triggers.yaml:7:29: help flow: there is no flow "nope"`},
		},
		{
			name: "help words missing in a language",
			lex:  func(w words) words { delete(w.texts["fr"], "kw3"); return w },
			want: []string{`triggers.yaml:7:18: the message "kw3" is missing in fr`},
		},
		{
			name: "two languages with one name",
			lex:  func(w words) words { w.texts["fr"]["ln"] = " english"; return w },
			want: []string{`triggers.yaml:5:76: the languages en and fr have the same name " english" (ln): a person choosing one could not tell them apart`},
		},
		{
			name:  "languages in an order that names an unknown one, and one twice",
			files: map[string]string{"triggers.yaml": "languages: [fr, de, fr]\n" + baseTriggers},
			want: []string{
				`triggers.yaml:1:17: languages: "de" has no message file that loads (locales/de.yaml)`,
				`triggers.yaml:1:21: languages: "fr" is listed twice`,
			},
		},
		{
			name:  "a count Faros does not keep",
			files: map[string]string{"main.yaml": replace(baseMain, "    say: m_done\n", "    say: m_done\n    count: visits\n")},
			want:  []string{`main.yaml:11:12: count: "visits" is not a statistic Faros keeps (screened, offered)`},
		},
		{
			name:  "triggers file missing",
			files: map[string]string{"triggers.yaml": ""},
			want:  []string{`triggers.yaml: the file is missing: it names the entry flow, the commands and the emergency words`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lex := newWords()
			if tt.lex != nil {
				lex = tt.lex(lex)
			}
			_, err := dialog.Load(content(tt.files), lex)
			var probs dialog.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load: %v; want problems", err)
			}
			if diff := cmp.Diff(tt.want, probs.Strings()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// replace replaces the first old in s, which must be there.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not found")
	}
	return strings.Replace(s, old, new, 1)
}

// The languages come in triggers.yaml's order; those it does not list follow.
func TestLanguageOrder(t *testing.T) {
	w := newWords()
	w.langs = append(w.langs, "de")
	w.texts["de"] = map[string]string{}
	for id, text := range w.texts["en"] {
		w.texts["de"][id] = text
	}
	w.texts["de"]["ln"] = "Deutsch"
	e, err := dialog.Load(content(map[string]string{"triggers.yaml": "languages: [fr]\n" + baseTriggers}), w)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Languages(); !slices.Equal(got, []string{"fr", "en", "de"}) {
		t.Errorf("Languages() = %v; want fr, then the others as the lexicon gives them", got)
	}
}

// A node's count: is an output each time it is passed: a screening's result with the node's
// own tier and the indicators answered yes, never anything of the person.
func TestCount(t *testing.T) {
	w := newWords()
	main := `id: main
start: q
nodes:
  q:
    ask: m_q
    brief: χρέος
    indicator: {code: debt, weight: 3}
    choices:
      - {id: "yes", label: m_yes, next: result}
      - {id: "no", label: m_no, next: result}
  result:
    say: m_done
    tier: 2
    count: screened
    next: offer
  offer:
    ask: m_x
    count: offered
    choices: [{id: "yes", label: m_yes, end: stop}]
`
	e, err := dialog.Load(content(map[string]string{"main.yaml": main}), w)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := e.Step(dialog.State{}, dialog.Input{Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	_, outs, err := e.Step(s, dialog.Input{Choice: "yes", Question: "main.q"})
	if err != nil {
		t.Fatal(err)
	}
	var counts []dialog.Output
	for _, o := range outs {
		if o.Kind == dialog.Count {
			counts = append(counts, o)
		}
	}
	if len(counts) != 2 || counts[0].Msg != "screened" || counts[0].Tier != 2 || !slices.Equal(counts[0].Indicators, []string{"debt"}) ||
		len(counts[0].Answers) != 1 || counts[1].Msg != "offered" {
		t.Errorf("counts: %+v; want screened at tier 2 with the indicator, then offered", counts)
	}
}
