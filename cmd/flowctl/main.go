// Command flowctl is the content editors' tool: it checks the flows and translations, chats
// through them in a terminal, draws a flow, measures translation coverage and replays the
// transcripts. Run "flowctl help" for the commands.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/flows/transcript"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/locales"
)

const usage = `flowctl: check and try Faros' dialogues.

  flowctl lint                 check flows and translations; every problem at file:line:column
  flowctl chat [--lang el]     talk to the flows in this terminal (numbers pick an answer)
  flowctl i18n                 translation coverage per language, missing and extra keys
  flowctl graph [--format mermaid|dot|svg] [--lang el] [--out FILE|DIR] FLOW|all
                               draw a flow, or every flow: a Mermaid chart on the standard
                               output by default; see docs/EDITING.md
  flowctl test [--update]      replay the transcripts (flows/testdata/*.txt)

Every command takes --flows DIR and --locales DIR (default: flows and locales under the
current directory, or the content built into flowctl when those do not exist).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is flowctl without the process around it; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, args := args[0], args[1:]
	fl := flag.NewFlagSet("flowctl "+cmd, flag.ContinueOnError)
	fl.SetOutput(stderr)
	flowsDir := fl.String("flows", "flows", "directory of the flows")
	localesDir := fl.String("locales", "locales", "directory of the message files")
	lang := fl.String("lang", "", "chat: answer the language question with this language; graph: the language of the texts (default "+locales.Reference+")")
	format := fl.String("format", "", "graph: mermaid, dot or svg (default: from --out's extension, else mermaid)")
	out := fl.String("out", "", "graph: the file to write, or the directory (one file per flow; for all, default .)")
	update := fl.Bool("update", false, "test: rewrite the transcripts with what the bot answers now")
	dir := fl.String("transcripts", "", "test: directory of the transcripts (default: testdata under --flows)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	src := sources{flows: *flowsDir, locales: *localesDir}
	var err error
	switch cmd {
	case "lint":
		err = lint(src, stdout)
	case "chat":
		err = chat(src, *lang, stdin, stdout)
	case "i18n":
		err = coverage(src, stdout)
	case "graph":
		if fl.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: flowctl graph [--format mermaid|dot|svg] [--lang el] [--out FILE|DIR] FLOW|all")
			return 2
		}
		err = graph(src, graphOptions{flow: fl.Arg(0), format: *format, lang: *lang, out: *out}, stdout)
	case "test":
		if *dir == "" {
			*dir = filepath.Join(*flowsDir, "testdata")
		}
		err = replay(src, *dir, *update, stdout)
	default:
		fmt.Fprintf(stderr, "flowctl: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// sources says where the content is read from.
type sources struct{ flows, locales string }

// builtin reports whether dir is the default def and does not exist (flowctl run outside
// the repository): then the content built into flowctl is read.
func builtin(dir, def string) bool {
	_, err := os.Stat(dir)
	return err != nil && dir == def
}

// open returns dir as a file system, or the built-in content (see builtin).
func open(dir, def string, files fs.FS) fs.FS {
	if builtin(dir, def) {
		return files
	}
	return os.DirFS(dir)
}

func (s sources) flowsFS() fs.FS   { return open(s.flows, "flows", flows.Files) }
func (s sources) localesFS() fs.FS { return open(s.locales, "locales", locales.Files) }

// String says which content is read: the directories, or the content built into flowctl.
func (s sources) String() string {
	bf, bl := builtin(s.flows, "flows"), builtin(s.locales, "locales")
	switch {
	case bf && bl:
		return "the content built into flowctl (there is no flows or locales directory here)"
	case bf:
		return "the flows built into flowctl (there is no flows directory here) and the messages in " + abs(s.locales)
	case bl:
		return "the flows in " + abs(s.flows) + " and the messages built into flowctl (there is no locales directory here)"
	}
	return "the flows in " + abs(s.flows) + " and the messages in " + abs(s.locales)
}

// messages says which message files are read.
func (s sources) messages() string {
	if builtin(s.locales, "locales") {
		return "the messages built into flowctl (there is no locales directory here)"
	}
	return "the messages in " + abs(s.locales)
}

func abs(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// load reads and checks all content (see content.Load).
func (s sources) load() (*dialog.Engine, *locales.Catalog, error) {
	return content.Load(content.Source{Flows: s.flowsFS(), Locales: s.localesFS(), FlowsDir: s.flows, LocalesDir: s.locales})
}

func lint(src sources, out io.Writer) error {
	e, cat, err := src.load()
	var probs dialog.Problems
	if errors.As(err, &probs) {
		return fmt.Errorf("%v\n%d problem%s in %s", probs, len(probs), plural(len(probs)), src)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(out, "checked %s\n", src)
	st := e.Stats()
	fmt.Fprintf(out, "ok: %d flows, %d nodes, %d questions; %d languages (%s), %d messages each\n",
		st.Flows, st.Nodes, st.Questions, len(cat.Languages()), strings.Join(cat.Languages(), " "), len(cat.IDs()))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func coverage(src sources, out io.Writer) error {
	cov, err := locales.Compare(src.localesFS())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "checked %s\n\n", src.messages())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "language\tkeys\tcoverage\tmissing\textra")
	incomplete := false
	for _, c := range cov {
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f%%\t%d\t%d\n", c.Lang, c.Have, c.Total, c.Percent(), len(c.Missing), len(c.Extra))
		incomplete = incomplete || len(c.Missing) > 0 || len(c.Extra) > 0
	}
	tw.Flush()
	for _, c := range cov {
		var absent []string
		for _, id := range c.Missing {
			if !slices.ContainsFunc(c.Same, func(s locales.Same) bool { return s.ID == id }) {
				absent = append(absent, id)
			}
		}
		if len(absent) > 0 {
			fmt.Fprintf(out, "\n%s.yaml lacks: %s\n", c.Lang, strings.Join(absent, ", "))
		}
		if len(c.Same) > 0 {
			fmt.Fprintf(out, "\n%s.yaml has %d message%s written as in %s.yaml, not translated (they count as missing):\n",
				c.Lang, len(c.Same), plural(len(c.Same)), locales.Reference)
			for _, s := range c.Same {
				fmt.Fprintf(out, "%s:%d: %q is the same as in %s.yaml: %q\n",
					path.Join(src.locales, c.Lang+".yaml"), s.Line, s.ID, locales.Reference, s.Text)
			}
		}
		if len(c.Extra) > 0 {
			fmt.Fprintf(out, "\n%s.yaml has keys the reference (%s.yaml) does not: %s\n", c.Lang, locales.Reference, strings.Join(c.Extra, ", "))
		}
	}
	if incomplete {
		return errors.New("the translations are incomplete")
	}
	return nil
}

func replay(src sources, dir string, update bool, out io.Writer) error {
	e, cat, err := src.load()
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no transcripts (*.txt) in %s", dir)
	}
	var failures, kept []string
	turns := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		sc, err := transcript.Parse(file, data)
		if err != nil {
			return err
		}
		r, err := transcript.Replay(e, cat, sc)
		if err != nil {
			return err
		}
		turns += len(sc.Turns)
		checks := sc.Check(r)
		failures = append(failures, checks...)
		switch {
		case update && len(checks) > 0:
			kept = append(kept, file) // never re-record a conversation that no longer proves what it says
		case update:
			if err := os.WriteFile(file, sc.Format(r.Got), 0o644); err != nil {
				return err
			}
		default:
			failures = append(failures, sc.Diff(r.Got)...)
		}
	}
	switch {
	case len(kept) > 0:
		return fmt.Errorf("%s\n%d transcript%s not rewritten (%s): fix the inputs or the declaration, then run flowctl test --update again; the %d others are updated",
			strings.Join(failures, "\n"), len(kept), plural(len(kept)), strings.Join(kept, ", "), len(files)-len(kept))
	case len(failures) > 0:
		return fmt.Errorf("%s\n%d problem%s; run flowctl test --update to accept the new answers, then read the diff",
			strings.Join(failures, "\n"), len(failures), plural(len(failures)))
	}
	verb := "replayed"
	if update {
		verb = "updated"
	}
	fmt.Fprintf(out, "checked %s\nok: %s %d transcripts (%s), %d turns\n", src, verb, len(files), abs(dir), turns)
	return nil
}

// chat runs a conversation in the terminal: numbered answers, typed text and commands.
func chat(src sources, lang string, in io.Reader, out io.Writer) error {
	e, cat, err := src.load()
	if err != nil {
		return err
	}
	if lang != "" && !slices.Contains(cat.Languages(), lang) {
		return fmt.Errorf("--lang %s: the languages are %s", lang, strings.Join(cat.Languages(), ", "))
	}
	fmt.Fprintf(out, "Talking to %s.\n", src)
	fmt.Fprintln(out, "Type a number to answer, or any text; /help, /language, /stop, /wipe, /start work too. Ctrl-D quits.")
	var s dialog.State
	input := dialog.Input{Command: "start"}
	lines := bufio.NewScanner(in)
	for {
		var outs []dialog.Output
		if s, outs, err = e.Step(s, input); err != nil {
			return err
		}
		buttons := show(cat, outs, out)
		if lang != "" && len(buttons) > 0 && isLanguageQuestion(outs) {
			fmt.Fprintf(out, "> %s\n", lang)
			input = dialog.Input{Choice: lang}
			continue
		}
		if s.Ended {
			fmt.Fprintln(out, "(the conversation is over; write anything to start again)")
		}
		fmt.Fprint(out, "> ")
		if !lines.Scan() {
			fmt.Fprintln(out)
			return lines.Err()
		}
		text := strings.TrimSpace(lines.Text())
		input = dialog.Input{Text: text}
		if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(buttons) {
			input = dialog.Input{Choice: buttons[n-1].ID}
		}
	}
}

// show prints outputs and returns the buttons of the last question.
func show(cat *locales.Catalog, outs []dialog.Output, out io.Writer) []locales.Button {
	var buttons []locales.Button
	for _, o := range outs {
		switch o.Kind {
		case dialog.Say, dialog.Ask:
			text, bs := cat.Show(o)
			fmt.Fprintf(out, "\n%s\n", text)
			for i, b := range bs {
				fmt.Fprintf(out, "  %d. %s\n", i+1, b.Label)
			}
			buttons = bs
		case dialog.Handoff:
			fmt.Fprintf(out, "\n[handoff to an operator: tier %d, reason %s, indicators: %s]\n", o.Tier, o.Reason, strings.Join(o.Indicators, ", "))
		case dialog.SetLanguage:
			fmt.Fprintf(out, "[language: %s]\n", o.Lang)
		case dialog.End:
			if o.Wipe {
				fmt.Fprintln(out, "[everything about this conversation is deleted]")
			}
		}
	}
	return buttons
}

func isLanguageQuestion(outs []dialog.Output) bool {
	last := outs[len(outs)-1]
	return last.Kind == dialog.Ask && len(last.Choices) > 0 && last.Choices[0].Lang != ""
}
