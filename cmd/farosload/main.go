// Command farosload measures Faros under load. It starts the service's core in this process
// against a real Redis, drives concurrent synthetic conversations (complete screenings)
// through the signed webhook API or Telegram's webhook (with a fake Bot API on loopback) and
// prints one table: messages per second, handling latency, Redis round trips, commands and CPU
// per message, Redis memory per session, CPU per message, resident memory; and, for scale,
// redis-benchmark's own figures on the same machine. -via peer drives a grammY bot (bench/peer)
// the same way, and -compare runs both and prints them side by side (compare.go).
//
//	go run ./cmd/farosload -redis redis://127.0.0.1:6379/14 -conversations 200 -duration 10s
//	go run ./cmd/farosload -via telegram -rate 2500
//	go run ./cmd/farosload -idle 100000 -duration 5s
//	go run ./cmd/farosload -compare -conversations 200 -duration 10s  # or bench/compare
//	go run ./cmd/farosload -spike -people 600 -window 20s   # the launch-day spike (spike.go)
package main

import (
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
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/content"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as cmd/faros sets it (its gcPercent), for the core measured here
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "farosload:", err)
		os.Exit(1)
	}
}

var secret = []byte("farosload signing key, loopback only")

const hookSecret = "farosload-webhook-secret"

// options are the flags of one measured run.
type options struct {
	redisURL      string
	conversations int
	duration      time.Duration
	perSecond     int
	via           string // api, telegram or peer
	idle          int
	cpuProfile    string
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("farosload", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.redisURL, "redis", envOr("FAROS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"), "Redis to run against (its keys get a unique prefix and are deleted after)")
	fs.IntVar(&o.conversations, "conversations", 200, "concurrent conversations, each sending its next message when the last is answered")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to measure, after a one-second warm-up")
	fs.IntVar(&o.perSecond, "rate", 0, "messages per second offered, over all conversations; 0: as fast as answered")
	fs.StringVar(&o.via, "via", "api", "api: the signed webhook API; telegram: Telegram's webhook, replies to a fake Bot API; peer: the grammY bot of bench/peer, the same way")
	fs.IntVar(&o.idle, "idle", 0, "idle sessions to create first, to measure memory per session as sessions grow")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file (samples labelled side=faros or side=load: go tool pprof -tagfocus side=faros)")
	comparing := fs.Bool("compare", false, "run Faros over Telegram, then the peer with the same flags, and print them side by side")
	spike := addSpikeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case spike.on:
		return runSpike(o.redisURL, spike, out)
	case *comparing:
		return compare(o, out)
	case o.via != "api" && o.via != "telegram" && o.via != "peer":
		return fmt.Errorf("-via %q: api, telegram or peer", o.via)
	}
	r, err := measure(o)
	if err != nil {
		return err
	}
	printResult(out, o, r)
	name := "faros"
	if o.via == "peer" {
		name = "peer"
	}
	printRedisBenchmark(out, r.addr, o.conversations, name, r.perSec)
	return nil
}

// measure runs one load against Faros or the peer, as o says, and sums it up.
func measure(o options) (result, error) {
	if o.via == "peer" && o.idle > 0 {
		return result{}, errors.New("-idle measures Faros' own memory: not with the peer")
	}
	opt, err := redis.ParseURL(o.redisURL)
	if err != nil {
		return result{}, err
	}
	opt.PoolSize = max(opt.PoolSize, o.conversations)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	trips := &roundTrips{}
	rdb.AddHook(trips)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return result{}, fmt.Errorf("redis %s: %w", opt.Addr, err) // the address: the URL may hold a password
	}
	engine, catalog, err := content.Load(content.Built())
	if err != nil {
		return result{}, err
	}
	routes, err := allRoutes(engine)
	if err != nil {
		return result{}, err
	}
	if o.via == "peer" {
		return measurePeer(ctx, o, rdb, routes)
	}
	return measureFaros(ctx, o, rdb, trips, &bot.Content{Engine: engine, Catalog: catalog}, routes)
}

// allRoutes is the walk of Telegram's synthetic people in each of their languages (see route).
func allRoutes(engine *dialog.Engine) (map[string][]string, error) {
	all := make(map[string][]string)
	for _, l := range langs {
		r, err := route(engine, l)
		if err != nil {
			return nil, err
		}
		all[l] = r
	}
	return all, nil
}

// measureFaros runs the load against Faros' core in this process, through its API or Telegram.
func measureFaros(ctx context.Context, o options, rdb *redis.Client, trips *roundTrips, c *bot.Content, routes map[string][]string) (result, error) {
	label(ctx, "faros") // this goroutine and what it starts, but for the load (see cpusplit.go)
	defer pprof.SetGoroutineLabels(ctx)
	prefix := "faros-load-" + randomHex(4)
	defer deleteKeys(rdb, prefix)
	// Each synthetic person answers far faster than a person: the buckets are made too large to
	// empty, but they are counted as in production, so that their cost is measured.
	unlimited := bot.Bucket{PerMinute: 100_000_000}
	b, err := bot.New(bot.Config{Redis: rdb, Content: c, PseudonymKey: secret, Prefix: prefix,
		Limits: bot.Limits{Buttons: unlimited, Texts: unlimited}})
	if err != nil {
		return result{}, err
	}
	api, err := newFakeBotAPI()
	if err != nil {
		return result{}, err
	}
	defer api.Close()
	handler, path, closeFn, err := front(o.via, b, bot.NewOutbox(rdb, prefix, "telegram", secret), api)
	if err != nil {
		return result{}, err
	}
	defer closeFn()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Close()

	var mem memory
	if o.idle > 0 {
		if mem, err = idleSessions(ctx, b, rdb, prefix, o.idle); err != nil {
			return result{}, err
		}
	}
	snap := func() snapshot {
		return snapshot{trips: trips.n.Load(), cpu: cpuTime(), commands: commands(ctx, rdb),
			redisCPU: redisCPU(ctx, rdb), sends: api.sends.Load(), answers: api.answers.Load(),
			hooked: api.hooked.Load(), conns: api.conns.Load()}
	}
	w, err := drive(ctx, o, "http://"+ln.Addr().String()+path, o.via, api, routes, prefix, snap)
	if err != nil {
		return result{}, err
	}
	r := sumUp(o, w, rdb.Options().Addr)
	r.mem = mem
	r.memory, r.memoryErr = sessionMemory(ctx, rdb, b, "api", "idle-", min(o.idle, 200))
	if o.idle == 0 {
		r.memory, r.memoryErr = sessionMemory(ctx, rdb, b, "api", fmt.Sprintf("load-%s-", prefix), min(o.conversations, 200))
		if o.via == "telegram" {
			r.memory, r.memoryErr = sessionMemory(ctx, rdb, b, "telegram", "1000", min(o.conversations, 100))
		}
	}
	return r, nil
}

// front is what the load hits: the signed API, or Telegram's webhook sending to api as the
// service has it: with its outbox in Redis, its delivery running, and the ids of what it sent
// remembered for a wipe.
func front(via string, b *bot.Bot, outbox *bot.Outbox, api *fakeBotAPI) (http.Handler, string, func(), error) {
	if via == "api" {
		h, err := webhook.New(webhook.Config{Secret: secret, Handler: b})
		return h, webhook.APIPath, func() {}, err
	}
	ch, err := telegram.New(telegram.Config{Token: "1:load", Endpoint: api.root + "/bot%s/%s",
		Mode: "webhook", WebhookURL: "https://example.org/tg", WebhookSecret: hookSecret,
		PerChat: time.Nanosecond, PerSecond: 1_000_000, Logger: slog.New(slog.DiscardHandler), Outbox: outbox,
		Sent: func(chatID, _ string, msgIDs []string, queued time.Time) {
			_, _ = b.Remember(context.Background(), "telegram", chatID, msgIDs, queued)
		}}, b)
	if err != nil {
		return nil, "", nil, err
	}
	stop, err := runChannel(context.Background(), ch)
	if err != nil {
		return nil, "", nil, err
	}
	return ch, "/tg", stop, nil
}

// runChannel runs Telegram's channel as cmd/faros does (the constructor starts nothing:
// without Deliver, the replies would stay in the outbox) and waits until it is ready. stop
// closes it and waits for it.
func runChannel(ctx context.Context, ch *telegram.Channel) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var running sync.WaitGroup
	running.Go(func() { _ = ch.Run(ctx) })
	running.Go(func() { _ = ch.Deliver(ctx) })
	stop = func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ch.Close(cctx)
		ccancel()
		cancel()
		running.Wait()
	}
	for deadline := time.Now().Add(10 * time.Second); ch.Ready() != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			err := fmt.Errorf("telegram channel not ready: %v", ch.Ready())
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// fakeBotAPI is a Bot API on loopback that accepts every call at once, and counts the calls
// that cost a bot the most, so that Faros and the peer can be seen to make the same ones.
type fakeBotAPI struct {
	root           string // "http://127.0.0.1:PORT"
	srv            *http.Server
	sends, answers atomic.Int64 // sendMessage, answerCallbackQuery
	hooked         atomic.Int64 // answerCallbackQuery made by a webhook's answer (among answers)
	conns          atomic.Int64 // connections opened to it
}

// webhookAnswer makes the call a webhook answered with, as Telegram does: here, counts it.
func (api *fakeBotAPI) webhookAnswer(body []byte) {
	var call struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(body, &call) == nil && call.Method == "answerCallbackQuery" {
		api.answers.Add(1)
		api.hooked.Add(1)
	}
}

func newFakeBotAPI() (*fakeBotAPI, error) {
	api := &fakeBotAPI{}
	var nextID atomic.Int64
	api.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]; method {
		case "getMe":
			fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Faros","username":"faros_bot","can_join_groups":false,"can_read_all_group_messages":false,"supports_inline_queries":false}}`)
		case "sendMessage":
			api.sends.Add(1)
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":1,"type":"private"}}}`, nextID.Add(1))
		case "answerCallbackQuery":
			api.answers.Add(1)
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		default:
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	})}
	api.srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			api.conns.Add(1)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api.root = "http://" + ln.Addr().String()
	go func() {
		label(context.Background(), "load") // it stands for Telegram
		_ = api.srv.Serve(ln)
	}()
	return api, nil
}

func (api *fakeBotAPI) Close() { api.srv.Close() }

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
