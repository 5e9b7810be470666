package main

// What farosload measures besides latency: memory as idle sessions grow and per session,
// Redis' round trips, commands and own CPU, CPU and resident memory, and redis-benchmark's own
// figures.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
)

// memory is the process' memory as idle sessions grow.
type memory struct{ heapAt1k, heapAtN, rssAt1k, rssAtN float64 }

// idleSessions starts n conversations that then say nothing, and measures this process'
// memory at 1,000 of them and at n: sessions live in Redis, so it should stay flat.
func idleSessions(ctx context.Context, b *bot.Bot, rdb *redis.Client, prefix string, n int) (memory, error) {
	var mem memory
	measure := func() (heap, res float64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20), float64(rss()) / (1 << 20)
	}
	var next atomic.Int64
	create := func(upto int64) error {
		var wg sync.WaitGroup
		var first error
		var once sync.Once
		for range 64 {
			wg.Go(func() {
				for i := next.Add(1); i <= upto; i = next.Add(1) {
					if _, err := b.Handle(ctx, bot.Message{Channel: "api", ChatID: fmt.Sprint("idle-", i), Text: "/start"}); err != nil {
						once.Do(func() { first = err })
						return
					}
				}
			})
		}
		wg.Wait()
		next.Store(upto)
		return first
	}
	if err := create(int64(min(n, 1000))); err != nil {
		return mem, err
	}
	mem.heapAt1k, mem.rssAt1k = measure()
	if err := create(int64(n)); err != nil {
		return mem, err
	}
	mem.heapAtN, mem.rssAtN = measure()
	return mem, nil
}

// sessionMemory is the average MEMORY USAGE of the keys of n conversations named prefix+i.
func sessionMemory(ctx context.Context, rdb *redis.Client, b *bot.Bot, channel, prefix string, n int) (int64, error) {
	if n == 0 {
		return 0, errors.New("no sessions")
	}
	var total int64
	for i := range n {
		id := prefix + strconv.Itoa(i)
		if channel == "telegram" {
			id = strconv.Itoa(1_000_000 + i)
		}
		p := b.Pseudonym(channel, id)
		keys, err := rdb.Keys(ctx, "*{p:"+p+"}*").Result()
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			total += rdb.MemoryUsage(ctx, k).Val()
		}
	}
	return total / int64(n), nil
}

// redisBenchmark runs Redis' own benchmark against addr: requests per second of SET and GET.
func redisBenchmark(addr string, clients int) (map[string]float64, error) {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("redis-benchmark", "-h", host, "-p", port, "-c", strconv.Itoa(clients),
		"-n", "200000", "-t", "set,get", "-q").Output()
	if err != nil {
		return nil, err
	}
	rps := map[string]float64{}
	for _, m := range regexp.MustCompile(`(SET|GET): ([\d.]+) requests per second`).FindAllStringSubmatch(string(out), -1) {
		rps[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	if len(rps) != 2 {
		return nil, fmt.Errorf("unexpected output %q", out)
	}
	return rps, nil
}

// roundTrips counts the requests the Redis client sends: a pipeline is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// commands is Redis' count of the commands run, by name, from INFO commandstats (without INFO
// itself, which farosload sends).
func commands(ctx context.Context, rdb *redis.Client) map[string]int64 {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil
	}
	counts := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		stat, ok := strings.CutPrefix(line, "cmdstat_")
		name, rest, _ := strings.Cut(stat, ":")
		if !ok || name == "info" {
			continue
		}
		_, rest, _ = strings.Cut(rest, "calls=")
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		counts[name] = n
	}
	return counts
}

// redisCPU is the CPU time Redis has used, system and user, from INFO cpu: the whole server,
// its other clients included, which is why the measured Redis is best left to farosload alone.
func redisCPU(ctx context.Context, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var seconds float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			s, _ := strconv.ParseFloat(v, 64)
			seconds += s
		}
	}
	return time.Duration(seconds * float64(time.Second))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is this process' resident memory in bytes.
func rss() int64 { return rssOf("/proc/self/status") }

// rssOf is the resident memory in bytes that a /proc/PID/status file gives.
func rssOf(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
