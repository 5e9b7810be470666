package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the default zone must load on the distroless image, which has no zoneinfo
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/handoff"
)

const auditUsage = `usage: faros audit CASE [--tz ZONE]

Prints the audit trail of case CASE (8 letters and digits, as operators see it), oldest
first, one line per event: local time, event, then key=value. It reads the Redis of the
service: FAROS_REDIS_URL, FAROS_REDIS_MASTER and FAROS_REDIS_PREFIX, as the service does.

  --tz ZONE   time zone of the times shown (default Europe/Athens)
`

// audit is "faros audit CASE": a case's trail for a supervisor, without redis-cli. It returns
// the exit status: 0 when the trail was printed, 1 when there is none or it cannot be read,
// 2 for a wrong command line.
func audit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faros audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage) }
	tz := fs.String("tz", "Europe/Athens", "time zone of the times shown")
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "faros audit: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	// The flag package stops at the first argument that is not a flag; the case comes first
	// (faros audit K3XQ7M2A --tz UTC), so the flags after it are parsed on from there.
	var ids []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return 0
		} else if err != nil {
			return 2 // the flag package has told what and shown the usage
		}
		if fs.NArg() == 0 {
			break
		}
		ids, args = append(ids, fs.Arg(0)), fs.Args()[1:]
	}
	if len(ids) != 1 {
		return usage("name one case")
	}
	id, err := handoff.ParseCaseID(ids[0])
	if err != nil {
		return usage("%v", err)
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return usage("--tz: unknown time zone %q", *tz)
	}

	cfg, rdb, closeRedis, err := commandRedis("there is no audit trail to read", getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "faros audit:", err)
		return 1
	}
	defer closeRedis()
	events, err := handoff.Trail(ctx, rdb, cfg.RedisPrefix, id)
	if err != nil {
		fmt.Fprintln(stderr, "faros audit:", err)
		return 1
	}
	if len(events) == 0 {
		fmt.Fprintf(stderr, "faros audit: case %s has no events in the audit trail of prefix %q: "+
			"the id is mistyped, or the case is older than the trail keeps.\n", id, cfg.RedisPrefix)
		return 1
	}
	w := bufio.NewWriter(stdout)
	for _, ev := range events {
		fmt.Fprintf(w, "%s  %s", ev.At.In(loc).Format(time.DateTime), shown(ev.Event))
		for i, f := range ev.Fields {
			sep := " "
			if i == 0 {
				sep = "  "
			}
			fmt.Fprintf(w, "%s%s=%s", sep, shown(f.Key), shown(f.Value))
		}
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "faros audit:", err)
		return 1
	}
	return 0
}

// shown is a word of the trail as printed: quoted when it is empty or holds a space, '=',
// a quote or a character that is not printable, so that every line splits into its pairs
// the same way and nothing in Redis can drive the supervisor's terminal.
func shown(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || r == '=' || r == '"' || r == '\\' || !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// commandRedis opens the service's Redis for a command (faros audit, faros stats), from the
// service's configuration. Without FAROS_REDIS_URL there is nothing to read: the embedded
// Redis of a local run lived in that process's memory only, and what says so ends with
// nothing (what there is not to read).
func commandRedis(nothing string, getenv func(string) string, stderr io.Writer) (*config, redis.UniversalClient, func(), error) {
	cfg, err := loadConfig(nil, getenv, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.RedisURL == "" {
		return nil, nil, nil, errors.New("FAROS_REDIS_URL is empty. Without it Faros keeps everything in an embedded, " +
			"in-memory Redis that is gone when the process stops: " + nothing + ". " +
			"Set FAROS_REDIS_URL (and FAROS_REDIS_PREFIX) as the service has them.")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	rdb, closeRedis, err := openRedis(cfg, log)
	return cfg, rdb, closeRedis, err
}
