// Command faros is the Faros service: Telegram, the signed webhook API and the web chat in
// front of the dialogue engine, with every conversation's state in Redis. Configuration comes
// from the FAROS_* variables (or flags); see the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	setGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	commands := map[string]func(context.Context, []string, func(string) string, io.Writer, io.Writer) int{
		"audit": audit, "stats": statsCommand, "operators": operators}
	if command := commands[os.Args[min(1, len(os.Args)-1)]]; len(os.Args) > 1 && command != nil {
		code := command(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faros:", err)
		os.Exit(1)
	}
}

// gcPercent is Go's GOGC for Faros when the environment sets none. Faros' live heap is a few
// MiB and every message allocates, so with Go's default of 100 the collector runs many times a
// second under load. 400 spends 40–65 MiB more under full load for about a tenth less CPU per
// message (measured with farosload: docs/CAPACITY.md).
const gcPercent = 400

// setGC sets gcPercent unless GOGC is set: a deployer's GOGC (and GOMEMLIMIT, which caps the
// heap whatever GOGC says) win.
func setGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
