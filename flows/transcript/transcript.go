// Package transcript replays conversations written down as text against the flows and the
// locales, so that a change of content shows in review as what a person would read.
//
// A transcript is a text file of turns:
//
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
package transcript

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// Script is one parsed transcript.
type Script struct {
	Name   string
	Header []string // comment lines before the first turn
	Turns  []Turn
}

// Turn is one input of the person and what the bot is expected to answer.
type Turn struct {
	Line   int      // where the input is written
	Input  string   // after "> "
	Want   []string // "< ..." and "! ..." lines
	Before []string // "= ..." settings written before the input
}

// Parse reads a transcript.
func Parse(name string, data []byte) (*Script, error) {
	sc := &Script{Name: name}
	var settings []string
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			sc.Turns = append(sc.Turns, Turn{Line: i + 1, Input: line[2:], Before: settings})
			settings = nil
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

// Replay runs the script's inputs from a new conversation and returns, turn by turn, the
// lines the bot shows, and the highest tier the conversation reached.
func Replay(e *dialog.Engine, cat *locales.Catalog, sc *Script) (got [][]string, tier int, err error) {
	var s dialog.State
	var host dialog.Input // the settings so far
	got = make([][]string, len(sc.Turns))
	for i, t := range sc.Turns {
		for _, setting := range t.Before {
			_ = apply(setting, &host)
		}
		in := Input(t.Input)
		in.OnDuty, in.InCase, in.NoDesk = host.OnDuty, host.InCase, host.NoDesk
		var outs []dialog.Output
		s, outs, err = e.Step(s, in)
		if err != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", sc.Name, t.Line, err)
		}
		tier = max(tier, s.Tier)
		got[i] = Lines(cat, outs)
	}
	return got, tier, nil
}

// Diff compares what the bot showed with what the script expects, one message per turn that
// differs, each at the line of its input.
func (sc *Script) Diff(got [][]string) []string {
	var out []string
	for i, t := range sc.Turns {
		if d := cmp.Diff(t.Want, got[i]); d != "" {
			out = append(out, fmt.Sprintf("%s:%d: after %q the bot answers differently (-want +got):\n%s", sc.Name, t.Line, "> "+t.Input, d))
		}
	}
	return out
}

// Format writes the script back with the given answers: what -update stores.
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
