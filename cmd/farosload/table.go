package main

// One run's figures, and its table.

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// result sums up one measured run; per-message figures are over the messages answered in the
// window.
type result struct {
	via, addr     string // addr: Redis', never its URL, which may hold a password
	n             int    // messages answered in the window
	failed        int64
	perSec        float64
	p50, p95, p99 time.Duration
	trips         float64 // round trips per message; -1 where this process cannot see them
	commands      float64 // per message
	byCommand     string  // the commands that make most of them, per message
	redisCPU      float64 // Redis' seconds per 1,000 messages
	cpu           float64 // this process' seconds per 1,000 messages
	peerCPU       float64 // the peer's seconds per 1,000 messages
	rss, peerRSS  float64 // MiB
	sends         float64 // sendMessage calls per message
	answers       float64 // answerCallbackQuery calls per message
	hooked        float64 // of them, made by the webhook's answer
	conns         float64 // connections opened to the Bot API per 1,000 messages
	memory        int64   // Redis bytes per session
	memoryErr     error
	mem           memory   // as idle sessions grow (-idle)
	cpuSplit      cpuSplit // cpu by side, per 1,000 messages (see cpusplit.go)
}

func sumUp(o options, w window, addr string) result {
	slices.Sort(w.latencies)
	pct := func(p float64) time.Duration {
		i := min(len(w.latencies)-1, int(p*float64(len(w.latencies))))
		return w.latencies[i].Round(10 * time.Microsecond)
	}
	n := w.answered
	per := func(x int64) float64 { return float64(x) / float64(n) }
	perK := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(n) }
	c := w.counted
	return result{via: o.via, addr: addr, n: n, failed: w.failures, perSec: float64(n) / w.elapsed.Seconds(),
		p50: pct(.50), p95: pct(.95), p99: pct(.99),
		trips: per(c.trips), commands: per(total(c.commands)), byCommand: byCommand(c.commands, n), redisCPU: perK(c.redisCPU),
		cpu: perK(c.cpu), peerCPU: perK(c.peerCPU), rss: float64(rss()) / (1 << 20),
		sends: per(c.sends), answers: per(c.answers), hooked: per(c.hooked), conns: per(c.conns) * 1000,
		cpuSplit: w.cpu.per1000(n)}
}

func total(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// byCommand names the six commands run most, each with its count per message.
func byCommand(counts map[string]int64, messages int) string {
	names := slices.SortedFunc(maps.Keys(counts), func(a, b string) int { return cmp.Compare(counts[b], counts[a]) })
	var parts []string
	for _, name := range names[:min(6, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(counts[name])/float64(messages)))
	}
	return strings.Join(parts, ", ")
}

// offered says how fast the conversations send.
func offered(o options) string {
	if o.perSecond > 0 {
		return fmt.Sprintf("%d messages/s offered", o.perSecond)
	}
	return "as fast as answered"
}

func printResult(out io.Writer, o options, r result) {
	fmt.Fprintf(out, "farosload: via %s, %d conversations, %s, for %v against %s (GOMAXPROCS %d, GOGC %s)\n",
		o.via, o.conversations, offered(o), o.duration.Round(time.Second), r.addr, runtime.GOMAXPROCS(0), envOr("GOGC", "400"))
	row := func(k, v string) { fmt.Fprintf(out, "  %-26s %s\n", k, v) }
	row("messages", fmt.Sprintf("%d (failed: %d)", r.n, r.failed))
	row("messages per second", fmt.Sprintf("%.0f", r.perSec))
	row("latency p50/p95/p99", fmt.Sprintf("%v / %v / %v", r.p50, r.p95, r.p99))
	if r.via == "peer" {
		row("redis round trips", "n/a (the peer's own client)")
	} else {
		row("redis round trips", fmt.Sprintf("%.2f per message", r.trips))
	}
	row("redis commands", fmt.Sprintf("%.2f per message (INFO commandstats, scripts' inner calls included)", r.commands))
	row("  by command", r.byCommand)
	row("redis cpu", fmt.Sprintf("%.3f s per 1,000 messages (INFO cpu, the whole server)", r.redisCPU))
	if r.memoryErr == nil {
		row("redis memory per session", fmt.Sprintf("%d bytes (MEMORY USAGE of its keys)", r.memory))
	}
	if r.via == "peer" {
		row("cpu", fmt.Sprintf("%.3f s per 1,000 messages: the peer %.3f, the load generator %.3f",
			r.peerCPU+r.cpu, r.peerCPU, r.cpu))
		row("resident memory", fmt.Sprintf("%.1f MiB (the peer's process)", r.peerRSS))
	} else {
		row("cpu", fmt.Sprintf("%.3f s per 1,000 messages, this process: Faros %.3f, the load generator %.3f, Go's runtime %.3f",
			r.cpu, r.cpuSplit.faros.Seconds(), r.cpuSplit.load.Seconds(), r.cpuSplit.runtime.Seconds()))
		row("", "(a CPU profile of the window; the runtime's garbage collection and scheduling serve both)")
		row("resident memory", fmt.Sprintf("%.1f MiB (this process)", r.rss))
	}
	if r.via != "api" {
		row("bot api calls", fmt.Sprintf("%.2f sendMessage, %.2f answerCallbackQuery (%.2f in the webhook's answer) per message; %.1f connections opened per 1,000",
			r.sends, r.answers, r.hooked, r.conns))
	}
	if o.idle > 0 {
		row("as sessions grow", fmt.Sprintf("heap %.1f MiB at 1,000 idle sessions, %.1f MiB at %d; RSS %.1f → %.1f MiB",
			r.mem.heapAt1k, r.mem.heapAtN, o.idle, r.mem.rssAt1k, r.mem.rssAtN))
	}
}

// printRedisBenchmark runs redis-benchmark and prints its figures beside perSec, the messages
// per second of bot (faros or peer), for scale.
func printRedisBenchmark(out io.Writer, addr string, clients int, bot string, perSec float64) {
	row := func(k, v string) { fmt.Fprintf(out, "  %-26s %s\n", k, v) }
	rps, err := redisBenchmark(addr, clients)
	if err != nil {
		row("redis-benchmark", "not run: "+err.Error())
		return
	}
	row("redis-benchmark", fmt.Sprintf("SET %.0f/s, GET %.0f/s with %d clients", rps["SET"], rps["GET"], clients))
	row(bot+" : redis ratio", fmt.Sprintf("%.3f (%s messages per second ÷ Redis' GET/SET per second)", perSec/((rps["SET"]+rps["GET"])/2), bot))
}
