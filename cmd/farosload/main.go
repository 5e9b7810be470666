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
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	if err := fs.Parse(args); err != nil {
		return err
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
		return fmt.Errorf("redis %s: %w", *redisURL, err)
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
	var wg sync.WaitGroup
	for i := range *conversations {
		wg.Go(func() {
			c := &conversation{id: fmt.Sprintf("load-%s-%d", prefix, i), chat: int64(1_000_000 + i),
				lang: []string{"el", "en", "fr", "sq"}[i%4], client: client, url: url, via: *via}
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

// conversation plays one person: a complete screening in its language, again and again.
type conversation struct {
	id, lang, url, via string
	chat               int64
	client             *http.Client
	step, seq          int
	buttons            []string
}

// script is what the person presses, by choice id, after "/start": language, safety check,
// the menu, seventeen answers (a broken promise and threats: tier 2), then "not now".
var script = append([]string{"LANG", "safe", "check"},
	"no", "no", "yes", "no", "no", "yes", "no", "no", "no", "no", "yes", "no", "no", "no", "no", "no", "no", "no")

func (c *conversation) next() (time.Duration, error) {
	c.seq++
	want := ""
	if c.step > 0 {
		if want = script[c.step-1]; want == "LANG" {
			want = c.lang
		}
	}
	var body []byte
	header := http.Header{"Content-Type": {"application/json"}}
	if c.via == "telegram" {
		body = c.update(want)
		header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
	} else {
		req := map[string]string{"conversation": c.id, "id": strconv.Itoa(c.seq), "text": "/start"}
		if c.step > 0 {
			req["text"] = ""
			for _, b := range c.buttons {
				if strings.HasSuffix(b, "/"+want) {
					req["choice"] = b
				}
			}
			if req["choice"] == "" {
				c.step = 0
				return 0, fmt.Errorf("no button %q", want)
			}
		}
		body, _ = json.Marshal(req)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		header.Set("X-Faros-Timestamp", ts)
		header.Set("X-Faros-Signature", webhook.Sign(secret, ts, body))
	}
	r, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	r.Header = header
	start := time.Now()
	resp, err := c.client.Do(r)
	if err != nil {
		return 0, err
	}
	var answer struct {
		Replies []struct {
			Choices []struct {
				ID string `json:"id"`
			} `json:"choices"`
		} `json:"replies"`
	}
	if c.via == "api" {
		err = json.NewDecoder(resp.Body).Decode(&answer)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %v", resp.StatusCode, err)
	}
	c.buttons = c.buttons[:0]
	if len(answer.Replies) > 0 {
		for _, ch := range answer.Replies[len(answer.Replies)-1].Choices {
			c.buttons = append(c.buttons, ch.ID)
		}
	}
	c.step = (c.step + 1) % (len(script) + 1)
	return d, nil
}

// update is the Telegram update for the next step: "/start" typed, or a button pressed. The
// data names only the choice: the question waiting takes it.
func (c *conversation) update(choice string) []byte {
	from := map[string]any{"id": c.chat, "is_bot": false, "first_name": "Load", "language_code": c.lang}
	chat := map[string]any{"id": c.chat, "type": "private"}
	u := map[string]any{"update_id": c.seq}
	if choice == "" {
		u["message"] = map[string]any{"message_id": c.seq, "date": 0, "chat": chat, "from": from, "text": "/start"}
	} else {
		u["callback_query"] = map[string]any{"id": strconv.Itoa(c.seq), "from": from, "chat_instance": "1", "data": choice,
			"message": map[string]any{"message_id": c.seq, "date": 0, "chat": chat}}
	}
	body, _ := json.Marshal(u)
	return body
}

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

// commands is Redis' count of commands run, from INFO commandstats.
func commands(ctx context.Context, rdb *redis.Client) int64 {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_info:") {
			continue
		}
		_, rest, _ := strings.Cut(line, "calls=")
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		total += n
	}
	return total
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is this process' resident memory in bytes, from /proc.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
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
