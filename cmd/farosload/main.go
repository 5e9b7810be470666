// Command farosload measures Faros under load: it starts the service's core in this process
// against a real Redis, drives concurrent synthetic conversations (complete screenings)
// through the signed webhook API over loopback HTTP, and prints messages per second, handling
// latency and Redis round trips per message.
//
//	go run ./cmd/farosload -redis redis://127.0.0.1:6379/14 -conversations 200 -duration 10s
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
	"net"
	"net/http"
	"os"
	"runtime"
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
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/locales"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "farosload:", err)
		os.Exit(1)
	}
}

var secret = []byte("farosload signing key, loopback only")

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("farosload", flag.ContinueOnError)
	redisURL := fs.String("redis", envOr("FAROS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"), "Redis to run against (its keys get a unique prefix and are deleted after)")
	conversations := fs.Int("conversations", 200, "concurrent conversations, each sending its next message when the last is answered")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure, after a one-second warm-up")
	perSecond := fs.Int("rate", 0, "messages per second offered, over all conversations; 0: as fast as answered")
	if err := fs.Parse(args); err != nil {
		return err
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

	content, err := bot.LoadContent(flows.Files, "flows", locales.Files, "locales")
	if err != nil {
		return err
	}
	// Each synthetic person answers far faster than the per-conversation limit allows.
	b, err := bot.New(bot.Config{Redis: rdb, Content: content, PseudonymKey: secret, Prefix: prefix, PerMinute: -1})
	if err != nil {
		return err
	}
	api, err := webhook.New(webhook.Config{Secret: secret, Handler: b})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conversations, MaxConnsPerHost: *conversations}}
	url := "http://" + ln.Addr().String() + webhook.APIPath
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &conversation{id: fmt.Sprintf("load-%s-%d", prefix, i), lang: []string{"el", "en", "fr", "sq"}[i%4], client: client, url: url}
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
		}()
	}
	time.Sleep(time.Second) // warm-up: connections, scripts loaded, first sessions
	trips0, cpu0, cmds0 := trips.n.Load(), cpuTime(), commands(ctx, rdb)
	start := time.Now()
	measuring.Store(true)
	time.Sleep(*duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	trips1, cpu1, cmds1 := trips.n.Load(), cpuTime(), commands(ctx, rdb)
	stop.Store(true)
	wg.Wait()

	n := len(latencies)
	if n == 0 {
		return errors.New("no message was answered")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(n-1, int(p*float64(n)))] }
	offered := "as fast as answered"
	if *perSecond > 0 {
		offered = fmt.Sprintf("%d messages/s offered", *perSecond)
	}
	fmt.Fprintf(out, "farosload: %d conversations, %s, for %v against %s (GOMAXPROCS %d)\n", *conversations, offered, duration.Round(time.Second), opt.Addr, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "  messages              %d (failed: %d)\n", n, failures.Load())
	fmt.Fprintf(out, "  messages per second   %.0f\n", float64(n)/elapsed.Seconds())
	fmt.Fprintf(out, "  latency p50/p95/p99   %v / %v / %v\n", pct(.50).Round(10*time.Microsecond), pct(.95).Round(10*time.Microsecond), pct(.99).Round(10*time.Microsecond))
	fmt.Fprintf(out, "  redis round trips     %.2f per message\n", float64(trips1-trips0)/float64(n))
	fmt.Fprintf(out, "  redis commands        %.2f per message (INFO commandstats, scripts' inner calls included)\n", float64(cmds1-cmds0)/float64(n))
	fmt.Fprintf(out, "  cpu (this process)    %.2f s per 1,000 messages (Faros and the load generator together)\n", (cpu1-cpu0).Seconds()*1000/float64(n))
	return nil
}

// conversation plays one person: a complete screening in its language, again and again.
type conversation struct {
	id, lang string
	client   *http.Client
	url      string
	step     int
	buttons  []string
	seq      int
}

// script is what the person presses, by choice id, after "/start": language, safety check,
// the menu, seventeen answers (a broken promise and threats: tier 2), then "not now".
var script = append([]string{"LANG", "safe", "check"},
	"no", "no", "yes", "no", "no", "yes", "no", "no", "no", "no", "yes", "no", "no", "no", "no", "no", "no", "no")

func (c *conversation) next() (time.Duration, error) {
	req := map[string]string{"conversation": c.id}
	c.seq++
	req["id"] = strconv.Itoa(c.seq)
	if c.step == 0 {
		req["text"] = "/start"
	} else {
		want := script[c.step-1]
		if want == "LANG" {
			want = c.lang
		}
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
	body, _ := json.Marshal(req)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Faros-Timestamp", ts)
	r.Header.Set("X-Faros-Signature", webhook.Sign(secret, ts, body))
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
	err = json.NewDecoder(resp.Body).Decode(&answer)
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
