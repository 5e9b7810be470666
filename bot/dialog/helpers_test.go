package dialog_test

import (
	"encoding/json"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// The engine's behaviour is tested on this small content of its own, never on the shipped
// flows and messages: an editor's change to flows/ or locales/ cannot break these tests, and
// the tests name only what is written here. (flows/flows_test.go tests the shipped content.)
//
//	language   the entry, /start and /language: the language question (pick), then end: resume,
//	           which goes home (menu) when nothing was interrupted
//	menu       menu: check → screen, info (a say), numbers (its label holds the help word),
//	           person → consent
//	screen     minor (yes sets the flag minor), lies (indicator lies, I, 2), free (held, C, 3,
//	           positive "no"), papers (papers, C, 3; yes → locked, which sets the flag locked);
//	           triage: flags.locked → tier 3 urgent, classI and classC → tier 2 likely (both
//	           go to consent), else the menu
//	consent    agree (yes/no), codeword (secret, typed), a handoff (tier 1, asked), waiting
//	help       /help and the help words: the numbers, then help_after: back (resume) or wipe
//	emergency  the emergency words: the numbers, then offer: now (tier 3, emergency, consent)
//	           or no (resume)
//	duress     the duress word: tier 3, a handoff if the person agreed, an innocent line, wait
//	bye, wipe  /stop (and leave now) and /wipe
//
// Two languages, English and Greek (for accents and case); the words below give each message
// in both. The Lexicon folds with locales.Fold, as Faros does.
var fixtureFlows = map[string]string{
	"triggers.yaml": `entry: language
home: menu
commands: {start: language, language: language, help: help, stop: bye, wipe: wipe}
emergency: {keywords: kw_emergency, flow: emergency}
duress: {keywords: kw_duress, flow: duress}
help: {keywords: kw_help, flow: help}
messages: {not_understood: not_understood, outdated: outdated, restarted: restarted, language_name: language_name, leave: leave}
indicators:
  lies: {kind: other, el: "ψέματα", en: "lies"}
  held: {kind: labour, el: "κρατείται", en: "held"}
  papers: {kind: labour, el: "χαρτιά", en: "papers"}
`,
	"language.yaml": `id: language
start: pick
nodes:
  pick: {ask: pick_language, languages: true, end: resume}
`,
	"menu.yaml": `id: menu
start: menu
nodes:
  menu:
    ask: menu
    choices:
      - {id: check, label: check, goto: screen}
      - {id: info, label: info, next: info}
      - {id: numbers, label: numbers, next: numbers}
      - {id: person, label: person, goto: consent}
  info: {say: info_text, next: menu}
  numbers: {say: help_numbers, next: menu}
`,
	"screen.yaml": `id: screen
start: minor
nodes:
  minor:
    ask: q_minor
    brief: "ανήλικος"
    choices: [{id: "yes", label: "yes", set: [minor]}, {id: "no", label: "no"}]
    next: lies
  lies:
    ask: q_lies
    brief: "του είπαν ψέματα"
    indicator: {code: lies, class: I, weight: 2}
    choices: &yn [{id: "yes", label: "yes"}, {id: "no", label: "no"}]
    next: free
  free:
    ask: q_free
    brief: "δεν μπορεί να φύγει"
    indicator: {code: held, class: C, weight: 3, positive: "no"}
    choices: *yn
    next: papers
  papers:
    ask: q_papers
    brief: "κρατούν τα χαρτιά"
    indicator: {code: papers, class: C, weight: 3}
    choices: [{id: "yes", label: "yes", next: locked}, {id: "no", label: "no"}]
    next: triage
  locked:
    ask: q_locked
    brief: "κλειδωμένος"
    choices: [{id: "yes", label: "yes", set: [locked]}, {id: "no", label: "no"}]
    next: triage
  triage:
    branch:
      - {when: "flags.locked", next: urgent}
      - {when: "classI > 0 && classC > 0", next: likely}
      - {else: true, goto: menu}
  urgent: {say: result, tier: 3, reason: urgent, goto: consent}
  likely: {say: result, tier: 2, reason: likely, goto: consent}
`,
	"consent.yaml": `id: consent
start: agree
nodes:
  agree:
    ask: q_agree
    choices: [{id: "yes", label: "yes", next: codeword}, {id: "no", label: "no", goto: menu}]
  codeword: {ask: q_codeword, secret: true, text: {next: handoff}}
  handoff: {handoff: {tier: 1, reason: asked}, next: waiting}
  waiting:
    ask: waiting
    choices: [{id: numbers, label: numbers, next: numbers}]
  numbers: {say: help_numbers, next: waiting}
`,
	"help.yaml": `id: help
start: numbers
nodes:
  numbers: {say: help_numbers, next: after}
  after:
    ask: help_after
    choices: [{id: back, label: back, end: resume}, {id: wipe, label: wipe, goto: wipe}]
`,
	"emergency.yaml": `id: emergency
start: numbers
nodes:
  numbers: {say: emergency_numbers, next: offer}
  offer:
    ask: offer
    choices: [{id: now, label: now, next: urgent}, {id: "no", label: "no", end: resume}]
  urgent: {tier: 3, reason: emergency, goto: consent}
`,
	"duress.yaml": `id: duress
start: raise
nodes:
  raise:
    tier: 3
    reason: duress
    branch:
      - {when: "answers.agree == 'yes'", next: alert}
      - {else: true, next: innocent}
  alert: {handoff: {tier: 3, reason: duress}, next: innocent}
  innocent: {say: duress_reply, end: wait}
`,
	"bye.yaml":  "id: bye\nstart: bye\nnodes:\n  bye: {say: goodbye, end: stop}\n",
	"wipe.yaml": "id: wipe\nstart: done\nnodes:\n  done: {say: wiped, end: wipe}\n",
}

// fixtureWords are the fixture's messages: id, English, Greek.
var fixtureWords = [][3]string{
	{"language_name", "English", "Ελληνικά"},
	{"pick_language", "Which language?", "Ποια γλώσσα;"},
	{"leave", "Leave now", "Φεύγω τώρα"},
	{"not_understood", "I did not understand. Call 112.", "Δεν κατάλαβα. Κάλεσε 112."},
	{"outdated", "That button is old.", "Αυτό το κουμπί είναι παλιό."},
	{"restarted", "Things changed: again from the start.", "Κάτι άλλαξε: από την αρχή."},
	{"kw_help", "help", "βοήθεια, voithia"},
	{"kw_emergency", "sos, help me, they will kill me", "σώστε με, κινδυνεύω"},
	{"kw_duress", "sunflower", "ηλιοτρόπιο"},
	{"menu", "What now?", "Τι τώρα;"},
	{"check", "Questions", "Ερωτήσεις"},
	{"info", "About us", "Σχετικά"},
	{"info_text", "We are a chat.", "Είμαστε μια συζήτηση."},
	{"numbers", "Numbers for help", "Αριθμοί για βοήθεια"},
	{"help_numbers", "Call 112.", "Κάλεσε 112."},
	{"person", "A person", "Ένας άνθρωπος"},
	{"yes", "Yes", "Ναι"},
	{"no", "No", "Όχι"},
	{"q_minor", "Under 18?", "Κάτω από 18;"},
	{"q_lies", "Were you lied to?", "Σου είπαν ψέματα;"},
	{"q_free", "Can you leave?", "Μπορείς να φύγεις;"},
	{"q_papers", "Do they keep your papers?", "Κρατούν τα χαρτιά σου;"},
	{"q_locked", "Are you locked in?", "Είσαι κλειδωμένος;"},
	{"result", "Thank you.", "Ευχαριστώ."},
	{"q_agree", "Talk to a person?", "Να μιλήσεις με άνθρωπο;"},
	{"q_codeword", "A code word?", "Μια λέξη-κλειδί;"},
	{"waiting", "Someone will write.", "Κάποιος θα γράψει."},
	{"help_after", "And now?", "Και τώρα;"},
	{"back", "Go back", "Πίσω"},
	{"wipe", "Delete all", "Σβήσε τα όλα"},
	{"emergency_numbers", "Call 112 now.", "Κάλεσε 112 τώρα."},
	{"offer", "Talk to someone now?", "Να μιλήσεις τώρα;"},
	{"now", "Now", "Τώρα"},
	{"duress_reply", "Nice weather.", "Ωραίος καιρός."},
	{"goodbye", "Goodbye.", "Αντίο."},
	{"wiped", "Deleted.", "Σβήστηκαν."},
}

// fixtureLexicon is the fixture's Lexicon: English and Greek, folded as Faros folds.
type fixtureLexicon map[string]map[string]string

func (l fixtureLexicon) Languages() []string { return []string{"en", "el"} }
func (l fixtureLexicon) Text(lang, id string) (string, bool) {
	t, ok := l[lang][id]
	return t, ok
}
func (l fixtureLexicon) Fold(s string) string { return locales.Fold(s) }

func newFixtureLexicon() fixtureLexicon {
	l := fixtureLexicon{"en": {}, "el": {}}
	for _, w := range fixtureWords {
		l["en"][w[0]], l["el"][w[0]] = w[1], w[2]
	}
	return l
}

// fixtureFS is the fixture's flows, with some files replaced (an empty text removes a file).
func fixtureFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, text := range fixtureFlows {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
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

// fixture loads the fixture content.
func fixture(t testing.TB) *dialog.Engine {
	t.Helper()
	e, err := dialog.Load(fixtureFS(nil), newFixtureLexicon())
	if err != nil {
		t.Fatalf("the fixture does not load: %v", err)
	}
	return e
}

// steps applies inputs in order and returns the final state and the last outputs.
func steps(t testing.TB, e *dialog.Engine, s dialog.State, inputs ...dialog.Input) (dialog.State, []dialog.Output) {
	t.Helper()
	var outs []dialog.Output
	var err error
	for _, in := range inputs {
		if s, outs, err = e.Step(s, in); err != nil {
			t.Fatalf("Step(%+v): %v", in, err)
		}
	}
	return s, outs
}

func pick(ids ...string) []dialog.Input {
	var ins []dialog.Input
	for _, id := range ids {
		ins = append(ins, dialog.Input{Choice: id})
	}
	return ins
}

// atMenu is a fixture conversation in lang at the menu.
func atMenu(t testing.TB, e *dialog.Engine, lang string) dialog.State {
	t.Helper()
	s, _ := steps(t, e, dialog.State{}, append([]dialog.Input{{Command: "start"}}, pick(lang)...)...)
	if s.Flow != "menu" || s.Node != "menu" {
		t.Fatalf("after the language the conversation waits at %s.%s; want menu.menu", s.Flow, s.Node)
	}
	return s
}

// atFixtureQuestion is a fixture conversation in lang waiting at the screening question q
// (minor, lies, free or papers), the questions before it answered so as to count for
// nothing; outs are the outputs that asked it.
func atFixtureQuestion(t testing.TB, e *dialog.Engine, lang, q string) (dialog.State, []dialog.Output) {
	t.Helper()
	calm := map[string]string{"minor": "no", "lies": "no", "free": "yes"}
	s, outs := steps(t, e, atMenu(t, e, lang), pick("check")...)
	for s.Node != q {
		a, ok := calm[s.Node]
		if !ok {
			t.Fatalf("waiting at %s.%s; want screen.%s", s.Flow, s.Node, q)
		}
		s, outs = steps(t, e, s, dialog.Input{Choice: a})
	}
	return s, outs
}

func kinds(outs []dialog.Output) []string {
	var ks []string
	for _, o := range outs {
		ks = append(ks, o.Kind.String()+":"+o.Msg)
	}
	return ks
}

// asked is the kind and message of the question that outs ask ("ask:q_lies").
func asked(outs []dialog.Output) string {
	return kinds(outs[len(outs)-1:])[0]
}

// nodeID is the node of a question "flow.node".
func nodeID(q string) string { return strings.TrimPrefix(path.Ext(q), ".") }

func clone(t testing.TB, s dialog.State) dialog.State {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out dialog.State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFixtureLoads: the fixture is valid content, as the tests read it.
func TestFixtureLoads(t *testing.T) {
	e := fixture(t)
	if got, want := e.Flows(), []string{"bye", "consent", "duress", "emergency", "help", "language", "menu", "screen", "wipe"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Flows() = %v; want %v", got, want)
	}
}
