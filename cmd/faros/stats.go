package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/stats"
)

const statsUsage = `usage: faros stats [--from WEEK] [--to WEEK] [--by week|month] [--format csv|json|svg|html] [--k K]

Prints the weekly counters (screenings by language, channel and tier; indicators; forms of
exploitation; possible minors; handoffs; claim times; closings) with every count under K
hidden, and whatever would reveal one. It reads the Redis of the service:
FAROS_REDIS_URL, FAROS_REDIS_MASTER and FAROS_REDIS_PREFIX, as the service does.

  --from WEEK    first ISO week, e.g. 2026-W01 (default: eleven weeks before --to)
  --to WEEK      last ISO week (default: this week, in Athens)
  --by PERIOD    week, or month (a week counts in the month of its Thursday): fewer cells hidden
  --format F     csv, json, svg (the charts) or html (charts and tables; no script, nothing fetched)
  --k K          hide counts under K (default 5, at least 2)
`

// statsCommand is "faros stats": the counters for whoever reports on the service, suppressed
// so that what it prints can leave the building. It returns the exit status: 0 when the
// table was printed, 1 when it cannot be read, 2 for a wrong command line.
func statsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faros stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, statsUsage) }
	fromS := fs.String("from", "", "first ISO week")
	toS := fs.String("to", "", "last ISO week")
	by := fs.String("by", "week", "week or month")
	format := fs.String("format", "csv", "csv, json, svg or html")
	k := fs.Int("k", 5, "hide counts under k")
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "faros stats: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2 // the flag package has told what and shown the usage
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments: %q", fs.Args())
	}
	from, to := stats.LastWeeks(time.Now(), 12)
	var err error
	if *toS != "" {
		if to, err = stats.ParseWeek(*toS); err != nil {
			return usage("--to: %v", err)
		}
		if *fromS == "" {
			from, _ = stats.LastWeeks(to.Monday().Add(12*time.Hour), 12)
		}
	}
	if *fromS != "" {
		if from, err = stats.ParseWeek(*fromS); err != nil {
			return usage("--from: %v", err)
		}
	}
	if to.Before(from) {
		return usage("--from %s is after --to %s", from, to)
	}
	if *by != "week" && *by != "month" {
		return usage("--by: %q is not week or month", *by)
	}
	write, ok := map[string]func(io.Writer, stats.Table, stats.Options) error{
		"csv":  func(w io.Writer, t stats.Table, _ stats.Options) error { return stats.WriteCSV(w, t) },
		"json": func(w io.Writer, t stats.Table, _ stats.Options) error { return stats.WriteJSON(w, t) },
		"svg":  stats.WriteSVG,
		"html": stats.WriteHTML,
	}[*format]
	if !ok {
		return usage("--format: %q is not csv, json, svg or html", *format)
	}
	if *k < 2 {
		return usage("--k: %d hides nothing; use 2 or more (5 is the default)", *k)
	}

	cfg, rdb, closeRedis, err := commandRedis("there are no counters to read", getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "faros stats:", err)
		return 1
	}
	defer closeRedis()
	t, err := stats.New(rdb, cfg.RedisPrefix).Read(ctx, from, to, *by == "month")
	if err != nil {
		fmt.Fprintln(stderr, "faros stats:", err)
		return 1
	}
	var names stats.Names
	if c, err := loadContent(cfg); err == nil {
		names = namesOf(c)
	} else {
		// The charts then name indicators by their codes: worth a line, not a failure.
		fmt.Fprintln(stderr, "faros stats: the content does not load, so the indicators are named by their codes:", err)
	}
	w := bufio.NewWriter(stdout)
	if err := write(w, stats.Suppress(t, *k), stats.Options{Names: names}); err != nil {
		fmt.Fprintln(stderr, "faros stats:", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "faros stats:", err)
		return 1
	}
	return 0
}

// namesOf is the content's names of the indicators and the languages, for the statistics.
func namesOf(c *bot.Content) stats.Names {
	names := stats.Names{}
	for _, ind := range c.Engine.Indicators() {
		names[ind.Code] = ind.Names
	}
	for _, lang := range c.Catalog.Languages() {
		el, _ := c.Catalog.Text(lang, "language_name_el")
		en, _ := c.Catalog.Text(lang, "language_name_en")
		names[lang] = map[string]string{"el": el, "en": en}
	}
	return names
}
