// Package transcript replays conversations written down as text against the flows and the
// locales, so that a change of content shows in review as what a person would read.
//
// A transcript is a text file of turns, under a declaration of what it proves:
//
//	= proves tier 2 handoff    the highest tier reached, and a "! handoff" line appears
//	= proves tier 0 no handoff ... or none does
//	# Comments and blank lines before the first turn are kept; elsewhere they are ignored.
//	> [yes]          the person presses the button with id "yes"
//	> /help          the person sends a command
//	> some words     the person types text
//	< a line         a line the bot shows
//	< [id] label     a button the bot shows
//	! handoff tier=3 reason=urgent indicators=a,b
//	! language el    the person chose a language
//	! end            the conversation ended ("! end wipe": and is deleted)
//	= on_duty 2      from here on, 2 operators are on duty (0 at the start)
//	= in_case true   from here on, the conversation is in a case with a counsellor (false at the start)
//	= no_desk true   from here on, this Faros has no counsellors at all (false at the start)
//	= stale button   the next input presses, on purpose, a button the question waiting does not
//	                 offer (without it, such an input fails: the inputs went out of step)
package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// Script is one parsed transcript.
type Script struct {
	Name   string
	Header []string // comment lines and the declaration before the first turn
	Proves *Proof   // the declaration ("= proves ..."); nil when there is none
	Turns  []Turn
}

// Turn is one input of the person and what the bot is expected to answer.
type Turn struct {
	Line   int      // where the input is written
	End    int      // the last line of the turn: its input's or its last "<" or "!" line
	Input  string   // after "> "
	Want   []string // "< ..." and "! ..." lines
	Before []string // "= ..." settings written before the input
	Stale  bool     // "= stale button" before it: the input presses a button no longer offered, on purpose
}

// staleButton marks the next input as a button pressed on purpose from an earlier question.
const staleButton = "= stale button"

// Parse reads a transcript.
func Parse(name string, data []byte) (*Script, error) {
	sc := &Script{Name: name}
	var settings []string
	stale := false
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			if stale && Input(line[2:]).Choice == "" {
				return nil, fmt.Errorf("%s:%d: \"%s\" is followed by no button press (\"> [id]\")", name, i+1, staleButton)
			}
			sc.Turns = append(sc.Turns, Turn{Line: i + 1, End: i + 1, Input: line[2:], Before: settings, Stale: stale})
			settings, stale = nil, false
		case line == staleButton:
			settings, stale = append(settings, line), true
		case line == "= proves" || strings.HasPrefix(line, "= proves "):
			if len(sc.Turns) > 0 {
				return nil, fmt.Errorf("%s:%d: the declaration (\"= proves ...\") belongs at the top, before the first input (\"> ...\")", name, i+1)
			}
			if sc.Proves != nil {
				return nil, fmt.Errorf("%s:%d: a second declaration; a transcript declares once what it proves", name, i+1)
			}
			p, err := parseProof(line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
			}
			sc.Proves = p
			sc.Header = append(sc.Header, line)
		case strings.HasPrefix(line, "= "):
			if err := apply(line, &dialog.Input{}); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
			}
			settings = append(settings, line)
		case strings.HasPrefix(line, "<") || strings.HasPrefix(line, "!"):
			if len(sc.Turns) == 0 {
				return nil, fmt.Errorf("%s:%d: a bot line before the first input (\"> ...\")", name, i+1)
			}
			t := &sc.Turns[len(sc.Turns)-1]
			t.Want = append(t.Want, line)
			t.End = i + 1
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			if len(sc.Turns) == 0 && len(settings) == 0 {
				sc.Header = append(sc.Header, line)
			}
		default:
			return nil, fmt.Errorf("%s:%d: a line must start with \"> \", \"<\", \"!\", \"=\" or \"#\"", name, i+1)
		}
	}
	if len(sc.Turns) == 0 {
		return nil, fmt.Errorf("%s: no turns", name)
	}
	return sc, nil
}

// Input reads what follows "> ": "[id]" presses a button, anything else is typed (and a
// typed "/command" is a command).
func Input(s string) dialog.Input {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return dialog.Input{Choice: s[1 : len(s)-1]}
	}
	return dialog.Input{Text: s}
}

// Lines renders outputs as transcript lines.
func Lines(cat *locales.Catalog, outs []dialog.Output) []string {
	var lines []string
	for _, o := range outs {
		switch o.Kind {
		case dialog.Say, dialog.Ask:
			text, buttons := cat.Show(o)
			for _, l := range strings.Split(text, "\n") {
				lines = append(lines, strings.TrimRight("< "+l, " "))
			}
			for _, b := range buttons {
				lines = append(lines, fmt.Sprintf("< [%s] %s", b.ID, b.Label))
			}
		case dialog.Handoff:
			lines = append(lines, fmt.Sprintf("! handoff tier=%d reason=%s indicators=%s", o.Tier, o.Reason, strings.Join(o.Indicators, ",")))
		case dialog.SetLanguage:
			lines = append(lines, "! language "+o.Lang)
		case dialog.Count:
			if o.Msg == "screened" {
				lines = append(lines, fmt.Sprintf("! count screened tier=%d", o.Tier))
			} else {
				lines = append(lines, "! count "+o.Msg)
			}
		case dialog.End:
			if o.Wipe {
				lines = append(lines, "! end wipe")
			} else {
				lines = append(lines, "! end")
			}
		}
	}
	return lines
}

// Result is what a replay of a script shows.
type Result struct {
	Got     [][]string // turn by turn, the lines the bot shows
	Tier    int        // the highest tier the conversation reached
	Handoff bool       // a "! handoff" line appears
	Asks    []Ask      // turn by turn, the question waiting after the turn (Msg "" when none)
	// OutOfStep is the first input that presses a button the question waiting does not
	// offer (or presses one when no question waits); nil when the inputs keep in step.
	OutOfStep *OutOfStep
}

// Ask is a question the bot waits on.
type Ask struct {
	Question string   // "flow.node"
	Msg      string   // its message id, e.g. "q_debt"
	Buttons  []string // the ids of its buttons, in order
	Lines    []string // how it shows, as transcript lines
}

// OutOfStep is an input that answers a question the transcript does not know.
type OutOfStep struct {
	Turn  int // index in Script.Turns
	Asked Ask // the question waiting when the input came (Msg "" when none)
}

// Replay runs the script's inputs from a new conversation and returns what the bot showed.
// An error is a failure of the engine, not a difference: differences are Diff's and Check's.
func Replay(e *dialog.Engine, cat *locales.Catalog, sc *Script) (*Result, error) {
	var s dialog.State
	var host dialog.Input // the settings so far
	r := &Result{Got: make([][]string, len(sc.Turns)), Asks: make([]Ask, len(sc.Turns))}
	var waiting Ask
	for i, t := range sc.Turns {
		for _, setting := range t.Before {
			if setting != staleButton {
				_ = apply(setting, &host)
			}
		}
		in := Input(t.Input)
		if in.Choice != "" && !t.Stale && r.OutOfStep == nil && !slices.Contains(waiting.Buttons, in.Choice) {
			r.OutOfStep = &OutOfStep{Turn: i, Asked: waiting}
		}
		in.OnDuty, in.InCase, in.NoDesk = host.OnDuty, host.InCase, host.NoDesk
		next, outs, err := e.Step(s, in)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", sc.Name, t.Line, err)
		}
		s = next
		r.Tier = max(r.Tier, s.Tier)
		r.Got[i] = Lines(cat, outs)
		for _, o := range outs {
			switch o.Kind {
			case dialog.Handoff:
				r.Handoff = true
			case dialog.Ask:
				waiting = Ask{Question: o.Question, Msg: o.Msg, Lines: Lines(cat, []dialog.Output{o})}
				for _, c := range o.Choices {
					waiting.Buttons = append(waiting.Buttons, c.ID)
				}
			}
		}
		if s.Ended || s.Node == "" {
			waiting = Ask{}
		}
		r.Asks[i] = waiting
	}
	return r, nil
}

// Check says how the replayed conversation fails the script: an input out of step with the
// questions, a declaration ("= proves ...") that no longer holds, or none at all. A script
// that fails its check must not be rewritten.
func (sc *Script) Check(r *Result) []string {
	var out []string
	name := sc.Name
	if o := r.OutOfStep; o != nil {
		t := sc.Turns[o.Turn]
		if o.Asked.Msg == "" {
			out = append(out, fmt.Sprintf("%s:%d: \"> %s\" presses a button, but no question waits here (the conversation ended before this line): the inputs are out of step with the conversation",
				sc.Name, t.Line, t.Input))
		} else {
			hint, ok := sc.newQuestion(r)
			if !ok {
				hint = "a question before this line may be new and need an answer, or the one this input answered may be gone (if the press is on purpose, write \"" + staleButton + "\" on the line before it)"
			}
			out = append(out, fmt.Sprintf("%s:%d: \"> %s\" presses a button that the question %s does not offer (it offers %s): the inputs are out of step with the questions; %s",
				sc.Name, t.Line, t.Input, o.Asked.Msg, buttons(o.Asked.Buttons), hint))
		}
	}
	now := Proof{Tier: r.Tier, Handoff: r.Handoff}
	switch {
	case sc.Proves == nil:
		out = append(out, fmt.Sprintf("%s: declares nothing; the conversation now ends at %s: if that is what it should prove, add the line \"%s\" at its top",
			name, now.phrase("a handoff"), now))
	case *sc.Proves != now:
		out = append(out, fmt.Sprintf("%s: declares %s, but the conversation now ends at %s: %s",
			name, sc.Proves.phrase("a handoff"), now.phrase("one"), sc.hint(r)))
	}
	return out
}

// hint says what may have broken a declaration.
func (sc *Script) hint(r *Result) string {
	if h, ok := sc.newQuestion(r); ok {
		return h
	}
	if o := r.OutOfStep; o != nil {
		return fmt.Sprintf("the inputs go out of step with the questions at line %d", sc.Turns[o.Turn].Line)
	}
	return "every turn still reads as the transcript, so it was recorded already out of step or with the wrong declaration; compare its inputs with the questions (git log -p shows when its answers moved)"
}

// newQuestion says where a question the transcript does not answer first appears: the first
// turn whose answer differs from the transcript's and shows a question the transcript does
// not; false if there is none.
func (sc *Script) newQuestion(r *Result) (string, bool) {
	for i, t := range sc.Turns {
		a := r.Asks[i]
		if a.Msg == "" || slices.Equal(t.Want, r.Got[i]) || contains(t.Want, a.Lines) {
			continue
		}
		answer := "your answer"
		if len(a.Buttons) > 0 {
			answer = "[" + a.Buttons[0] + "]"
			if slices.Contains(a.Buttons, "no") {
				answer = "[no]"
			}
		}
		return fmt.Sprintf("a new question may need an answer here — add a line \"> %s\" after line %d, where the bot now asks %s (it offers %s)",
			answer, t.End, a.Msg, buttons(a.Buttons)), true
	}
	return "", false
}

// buttons writes ids as "[yes] [no] [skip]".
func buttons(ids []string) string {
	if len(ids) == 0 {
		return "no buttons, only typed text"
	}
	return "[" + strings.Join(ids, "] [") + "]"
}

// contains reports whether part appears in lines, in order and together.
func contains(lines, part []string) bool {
	for i := 0; i+len(part) <= len(lines); i++ {
		if slices.Equal(lines[i:i+len(part)], part) {
			return true
		}
	}
	return false
}

// Diff compares what the bot showed with what the script expects, one message per turn that
// differs, each at the line of its input, with the lines as they read: "-" in the
// transcript, "+" now, " " both.
func (sc *Script) Diff(got [][]string) []string {
	var out []string
	for i, t := range sc.Turns {
		if !slices.Equal(t.Want, got[i]) {
			out = append(out, fmt.Sprintf("%s:%d: after \"> %s\" the bot answers differently (- in the transcript, + now):\n%s",
				sc.Name, t.Line, t.Input, LineDiff(t.Want, got[i])))
		}
	}
	return out
}

// LineDiff writes the lines of a and b as a line-based diff, as text: each line prefixed by
// "- " (only in a), "+ " (only in b) or "  " (in both).
func LineDiff(a, b []string) string {
	// The longest common subsequence, by dynamic programming: turns are short.
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var w strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			w.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			w.WriteString("- " + a[i] + "\n")
			i++
		default:
			w.WriteString("+ " + b[j] + "\n")
			j++
		}
	}
	return w.String()
}

// Format writes the script back with the given answers: what --update stores.
func (sc *Script) Format(got [][]string) []byte {
	var b bytes.Buffer
	for _, h := range sc.Header {
		b.WriteString(h + "\n")
	}
	for i, t := range sc.Turns {
		for _, setting := range t.Before {
			b.WriteString(setting + "\n")
		}
		b.WriteString("> " + t.Input + "\n")
		for _, l := range got[i] {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

// Proof is what a transcript declares it proves: "= proves tier N handoff" or
// "= proves tier N no handoff".
type Proof struct {
	Tier    int  // the highest tier the conversation reaches, 0 to 3
	Handoff bool // a "! handoff" line appears
}

// String writes the declaration line.
func (p Proof) String() string {
	if p.Handoff {
		return fmt.Sprintf("= proves tier %d handoff", p.Tier)
	}
	return fmt.Sprintf("= proves tier %d no handoff", p.Tier)
}

// phrase says "tier 2 with a handoff" or "tier 0 without a handoff", what naming the handoff.
func (p Proof) phrase(what string) string {
	if p.Handoff {
		return fmt.Sprintf("tier %d with %s", p.Tier, what)
	}
	return fmt.Sprintf("tier %d without %s", p.Tier, what)
}

const proofSyntax = `a declaration reads "= proves tier N handoff" or "= proves tier N no handoff", N the highest tier reached (0 to 3)`

// parseProof reads a "= proves ..." line.
func parseProof(line string) (*Proof, error) {
	f := strings.Fields(strings.TrimPrefix(line, "= proves"))
	var p Proof
	switch {
	case len(f) == 3 && f[2] == "handoff":
		p.Handoff = true
	case len(f) == 4 && f[2] == "no" && f[3] == "handoff":
	default:
		return nil, errors.New(proofSyntax)
	}
	if f[0] != "tier" || len(f[1]) != 1 || f[1][0] < '0' || f[1][0] > '3' {
		return nil, errors.New(proofSyntax)
	}
	p.Tier = int(f[1][0] - '0')
	return &p, nil
}

// apply reads a setting, "= on_duty N" or "= in_case true|false", into in.
func apply(line string, in *dialog.Input) error {
	var n int
	var b bool
	switch {
	case strings.HasPrefix(line, "= on_duty "):
		if _, err := fmt.Sscanf(line, "= on_duty %d", &n); err != nil || n < 0 {
			return fmt.Errorf("a setting reads \"= on_duty N\", N a number of operators")
		}
		in.OnDuty = n
	case strings.HasPrefix(line, "= in_case "), strings.HasPrefix(line, "= no_desk "):
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "= "), " ")
		if _, err := fmt.Sscanf(line, "= "+name+" %t", &b); err != nil {
			return fmt.Errorf("a setting reads \"= %s true\" or \"= %s false\"", name, name)
		}
		if name == "in_case" {
			in.InCase = b
		} else {
			in.NoDesk = b
		}
	default:
		return fmt.Errorf("a setting is \"= on_duty N\", \"= in_case true|false\" or \"= no_desk true|false\"")
	}
	return nil
}
