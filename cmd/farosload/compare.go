package main

// -compare: Faros over Telegram, then the grammY peer with the same flags, in one table.

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

// compare measures Faros over Telegram's webhook, then the peer, each on its own under the
// same load, and prints them side by side with their ratios.
func compare(o options, out io.Writer) error {
	if o.via != "api" && o.via != "telegram" { // "api" is -via's default, not a choice
		return fmt.Errorf("-compare runs Faros over Telegram and the peer: not -via %s", o.via)
	}
	if o.idle > 0 {
		return errors.New("-compare: -idle measures Faros alone")
	}
	o.via = "telegram"
	faros, err := measure(o)
	if err != nil {
		return fmt.Errorf("faros: %w", err)
	}
	o.via, o.cpuProfile = "peer", "" // a profile is of Faros' run only
	peer, err := measure(o)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	printComparison(out, o, faros, peer)
	printRedisBenchmark(out, faros.addr, o.conversations, "faros", faros.perSec)
	return nil
}

// printComparison prints one row a figure: Faros', the peer's and, where it tells something,
// a ratio turned so that above 1 is Faros doing better.
func printComparison(out io.Writer, o options, f, p result) {
	fmt.Fprintf(out, "farosload -compare: Telegram's webhook, %d conversations, %s, %v each, against %s (GOMAXPROCS %d, GOGC %s)\n",
		o.conversations, offered(o), o.duration.Round(time.Second), f.addr, runtime.GOMAXPROCS(0), envOr("GOGC", "400"))
	row := func(k, faros, peer, ratio string) {
		fmt.Fprintf(out, "  %-32s %-16s %-16s %s\n", k, faros, peer, ratio)
	}
	num := func(format string, x float64) string { return fmt.Sprintf(format, x) }
	ratio := func(a, b float64, how string) string {
		if b == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f (%s)", a/b, how)
	}
	const fp, pf = "Faros ÷ peer", "peer ÷ Faros"
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 }
	row("", "Faros", "peer (grammY)", "ratio, above 1: Faros better")
	row("steps (failed)", fmt.Sprintf("%d (%d)", f.n, f.failed), fmt.Sprintf("%d (%d)", p.n, p.failed), "")
	row("steps per second", num("%.0f", f.perSec), num("%.0f", p.perSec), ratio(f.perSec, p.perSec, fp))
	row("latency p50", f.p50.String(), p.p50.String(), ratio(ms(p.p50), ms(f.p50), pf))
	row("latency p95", f.p95.String(), p.p95.String(), ratio(ms(p.p95), ms(f.p95), pf))
	row("latency p99", f.p99.String(), p.p99.String(), ratio(ms(p.p99), ms(f.p99), pf))
	row("redis round trips per step", num("%.2f", f.trips), "n/a", "")
	row("redis commands per step", num("%.2f", f.commands), num("%.2f", p.commands), ratio(p.commands, f.commands, pf))
	row("redis cpu, s per 1,000 steps", num("%.3f", f.redisCPU), num("%.3f", p.redisCPU), ratio(p.redisCPU, f.redisCPU, pf))
	memRatio := ""
	if f.memoryErr == nil && p.memoryErr == nil {
		memRatio = ratio(float64(p.memory), float64(f.memory), pf)
	}
	row("redis memory per conversation", memoryCell(f), memoryCell(p), memRatio)
	row("cpu, s per 1,000 steps", num("%.3f", f.cpu), num("%.3f", p.peerCPU+p.cpu), ratio(p.peerCPU+p.cpu, f.cpu, pf))
	row("  the bot alone", num("%.3f", f.cpuSplit.faros.Seconds()), num("%.3f", p.peerCPU), ratio(p.peerCPU, f.cpuSplit.faros.Seconds(), pf))
	row("  the load generator alone", num("%.3f", f.cpuSplit.load.Seconds()), num("%.3f", p.cpu), "")
	row("  Go's runtime, for both", num("%.3f", f.cpuSplit.runtime.Seconds()), "", "")
	row("sendMessage per step", num("%.2f", f.sends), num("%.2f", p.sends), "")
	row("answerCallbackQuery per step", num("%.2f", f.answers), num("%.2f", p.answers), "")
	row("  in the webhook's answer", num("%.2f", f.hooked), num("%.2f", p.hooked), "")
	row("bot api connections per 1,000", num("%.1f", f.conns), num("%.1f", p.conns), "")
	row("resident memory, MiB", num("%.1f", f.rss), num("%.1f", p.peerRSS), "")
	fmt.Fprintln(out, "  cpu: Faros runs in farosload's process with the load generator and the fake Bot API, apart by a")
	fmt.Fprintln(out, "  CPU profile (the runtime's GC and scheduling serve both); the peer is its own process, its load")
	fmt.Fprintln(out, "  generator is farosload's. Redis' cpu is the whole server's (INFO cpu).")
	fmt.Fprintln(out, "  Faros' resident memory holds the load generator's too.")
}

func memoryCell(r result) string {
	if r.memoryErr != nil {
		return "?"
	}
	return fmt.Sprintf("%d bytes", r.memory)
}
