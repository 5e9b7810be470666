// Command farosload measures Faros under load. It starts the service's core in this process
// against a real Redis, drives concurrent synthetic conversations (complete screenings)
// through the signed webhook API or Telegram's webhook (with a fake Bot API on loopback) and
// prints one table: messages per second, handling latency, Redis round trips, commands and
// memory per session, CPU per message, resident memory; and, for scale, redis-benchmark's
// own figures on the same machine.
//
//	go run ./cmd/farosload -redis redis://127.0.0.1:6379/14 -conversations 200 -duration 10s
//	go run ./cmd/farosload -via telegram -rate 2500
//	go run ./cmd/farosload -idle 100000 -duration 5s
//	go run ./cmd/farosload -spike -people 600 -window 20s   # the launch-day spike (spike.go)
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/content"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "farosload:", err)
		os.Exit(1)
	}
}

var secret = []byte("farosload signing key, loopback only")

const hookSecret = "farosload-webhook-secret"

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("farosload", flag.ContinueOnError)
	redisURL := fs.String("redis", envOr("FAROS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"), "Redis to run against (its keys get a unique prefix and are deleted after)")
	conversations := fs.Int("conversations", 200, "concurrent conversations, each sending its next message when the last is answered")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure, after a one-second warm-up")
	perSecond := fs.Int("rate", 0, "messages per second offered, over all conversations; 0: as fast as answered")
	via := fs.String("via", "api", "api: the signed webhook API; telegram: Telegram's webhook, replies to a fake Bot API")
	idle := fs.Int("idle", 0, "idle sessions to create first, to measure memory per session as sessions grow")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	spike := addSpikeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if spike.on {
		return runSpike(*redisURL, spike, out)
	}
	if *via != "api" && *via != "telegram" {
		return fmt.Errorf("-via %q: api or telegram", *via)
	}
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	opt.PoolSize = max(opt.PoolSize, *conversations)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	trips := &roundTrips{}
	rdb.AddHook(trips)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", opt.Addr, err) // the address: the URL may hold a password
	}
	prefix := "faros-load-" + randomHex(4)
	defer deleteKeys(rdb, prefix)

	engine, catalog, err := content.Load(content.Built())
	if err != nil {
		return err
	}
	// Each synthetic person answers far faster than a person: the buckets are made too large to
	// empty, but they are counted as in production, so that their cost is measured.
	unlimited := bot.Bucket{PerMinute: 100_000_000}
	b, err := bot.New(bot.Config{Redis: rdb, Content: &bot.Content{Engine: engine, Catalog: catalog}, PseudonymKey: secret, Prefix: prefix,
		Limits: bot.Limits{Buttons: unlimited, Texts: unlimited}})
	if err != nil {
		return err
	}
	handler, path, closeFn, err := front(*via, b, bot.NewOutbox(rdb, prefix, "telegram", secret))
	if err != nil {
		return err
	}
	defer closeFn()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Close()

	var mem memory
	if *idle > 0 {
		if mem, err = idleSessions(ctx, b, rdb, prefix, *idle); err != nil {
			return err
		}
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conversations, MaxConnsPerHost: *conversations}}
	url := "http://" + ln.Addr().String() + path
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
	)
	limit := rate.NewLimiter(rate.Inf, 1)
	if *perSecond > 0 {
		limit = rate.NewLimiter(rate.Limit(*perSecond), *perSecond/100+1)
	}
	langs := []string{"el", "en", "fr", "sq"}
	routes := make(map[string][]string)
	for _, l := range langs {
		if routes[l], err = route(engine, l); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	for i := range *conversations {
		wg.Go(func() {
			lang := langs[i%len(langs)]
			c := &conversation{id: fmt.Sprintf("load-%s-%d", prefix, i), chat: int64(1_000_000 + i),
				lang: lang, client: client, url: url, via: *via, route: routes[lang]}
			var mine []time.Duration
			for !stop.Load() {
				_ = limit.Wait(ctx)
				d, err := c.next()
				if err != nil {
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if measuring.Load() {
					mine = append(mine, d)
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	time.Sleep(time.Second) // warm-up: connections, scripts loaded, first sessions
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	trips0, cpu0, cmds0 := trips.n.Load(), cpuTime(), commands(ctx, rdb)
	start := time.Now()
	measuring.Store(true)
	time.Sleep(*duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	trips1, cpu1, cmds1 := trips.n.Load(), cpuTime(), commands(ctx, rdb)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	stop.Store(true)
	wg.Wait()

	n := len(latencies)
	if n == 0 {
		return errors.New("no message was answered")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[min(n-1, int(p*float64(n)))].Round(10 * time.Microsecond)
	}
	perSec := float64(n) / elapsed.Seconds()
	offered := "as fast as answered"
	if *perSecond > 0 {
		offered = fmt.Sprintf("%d messages/s offered", *perSecond)
	}
	fmt.Fprintf(out, "farosload: via %s, %d conversations, %s, for %v against %s (GOMAXPROCS %d)\n",
		*via, *conversations, offered, duration.Round(time.Second), opt.Addr, runtime.GOMAXPROCS(0))
	row := func(k, v string) { fmt.Fprintf(out, "  %-26s %s\n", k, v) }
	row("messages", fmt.Sprintf("%d (failed: %d)", n, failures.Load()))
	row("messages per second", fmt.Sprintf("%.0f", perSec))
	row("latency p50/p95/p99", fmt.Sprintf("%v / %v / %v", pct(.50), pct(.95), pct(.99)))
	row("redis round trips", fmt.Sprintf("%.2f per message", float64(trips1-trips0)/float64(n)))
	row("redis commands", fmt.Sprintf("%.2f per message (INFO commandstats, scripts' inner calls included)", float64(cmds1-cmds0)/float64(n)))
	perSession, err := sessionMemory(ctx, rdb, b, "api", "idle-", min(*idle, 200))
	if *idle == 0 {
		perSession, err = sessionMemory(ctx, rdb, b, "api", fmt.Sprintf("load-%s-", prefix), min(*conversations, 200))
		if *via == "telegram" {
			perSession, err = sessionMemory(ctx, rdb, b, "telegram", "1000", min(*conversations, 100))
		}
	}
	if err == nil {
		row("redis memory per session", fmt.Sprintf("%d bytes (MEMORY USAGE of its keys)", perSession))
	}
	row("cpu", fmt.Sprintf("%.3f s per 1,000 messages (Faros and the load generator together)", (cpu1-cpu0).Seconds()*1000/float64(n)))
	row("resident memory", fmt.Sprintf("%.1f MiB (this process)", float64(rss())/(1<<20)))
	if *idle > 0 {
		row("as sessions grow", fmt.Sprintf("heap %.1f MiB at 1,000 idle sessions, %.1f MiB at %d; RSS %.1f → %.1f MiB",
			mem.heapAt1k, mem.heapAtN, *idle, mem.rssAt1k, mem.rssAtN))
	}
	if rps, err := redisBenchmark(opt.Addr, *conversations); err == nil {
		row("redis-benchmark", fmt.Sprintf("SET %.0f/s, GET %.0f/s with %d clients", rps["SET"], rps["GET"], *conversations))
		row("faros : redis ratio", fmt.Sprintf("%.3f (Faros messages per second ÷ Redis' GET/SET per second)", perSec/((rps["SET"]+rps["GET"])/2)))
	} else {
		row("redis-benchmark", "not run: "+err.Error())
	}
	return nil
}

// front is what the load hits: the signed API, or Telegram's webhook (with its outbox, as the
// service has it) and a fake Bot API that accepts every message at once.
func front(via string, b *bot.Bot, outbox *bot.Outbox) (http.Handler, string, func(), error) {
	if via == "api" {
		api, err := webhook.New(webhook.Config{Secret: secret, Handler: b})
		return api, webhook.APIPath, func() {}, err
	}
	var nextID atomic.Int64
	fake := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		switch method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Faros","username":"faros_bot"}}`)
		case "sendMessage":
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":1,"type":"private"}}}`, nextID.Add(1))
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	go fake.Serve(ln)
	ch, err := telegram.New(telegram.Config{Token: "1:load", Endpoint: "http://" + ln.Addr().String() + "/bot%s/%s",
		Mode: "webhook", WebhookURL: "https://example.org/tg", WebhookSecret: hookSecret,
		PerChat: time.Nanosecond, PerSecond: 1_000_000, Logger: slog.New(slog.DiscardHandler), Outbox: outbox}, b)
	if err != nil {
		fake.Close()
		return nil, "", nil, err
	}
	return ch, "/tg", func() { _ = ch.Close(context.Background()); fake.Close() }, nil
}

func deleteKeys(rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
