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
	"syscall"
)

func main() {
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
