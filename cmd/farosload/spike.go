package main

// The launch-day spike (-spike): many people send /start within a few minutes to Faros' Telegram
// channel (webhook mode, its outbound queue at its defaults: 28 sends a second, 1.1 s between two
// to one chat), whose replies go to a fake Bot API that enforces Telegram's own limits (30 a
// second, one a second per chat, 429 with retry_after beyond). A few go on through the screening
// at human speed, and some of those type an emergency word. It reports how long people wait.
//
//	go run ./cmd/farosload -spike -redis redis://127.0.0.1:6379/14                 # 10,000 in 10 minutes
//	go run ./cmd/farosload -spike -people 600 -window 20s -redis redis://127.0.0.1:6379/15
//
// This file sets the spike up and runs the people's scripts; spikereport.go measures, drains and reports.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/content"
)

// emergencyWord is an English emergency word (keywords_emergency in locales/en.yaml): typed from
// anywhere in a conversation, it opens the emergency flow, whose replies are urgent.
const emergencyWord = "help me"

type spikeConfig struct {
	on        bool
	people    int
	window    time.Duration
	screen    float64
	emergency float64
	think     time.Duration
	drain     time.Duration
	json      bool
	seed      uint64
	edit      bool
}

func addSpikeFlags(fs *flag.FlagSet) *spikeConfig {
	c := &spikeConfig{}
	fs.BoolVar(&c.on, "spike", false, "run the launch-day spike instead (Telegram webhook, the fake Bot API enforcing Telegram's limits)")
	fs.IntVar(&c.people, "people", 10_000, "spike: people who send /start")
	fs.DurationVar(&c.window, "window", 10*time.Minute, "spike: each sends /start at a uniformly random moment within this window")
	fs.Float64Var(&c.screen, "screen", 0.05, "spike: the fraction of people who go on through the screening at human speed")
	fs.Float64Var(&c.emergency, "emergency", 0.2, "spike: the fraction of those who type an emergency word at a random question")
	fs.DurationVar(&c.think, "think", 2*time.Second, "spike: a person takes between this and twice this to answer a question")
	fs.DurationVar(&c.drain, "drain", 10*time.Minute, "spike: after the window, how long at most to wait for the queue to drain")
	fs.BoolVar(&c.json, "json", false, "spike: print the report as JSON")
	fs.Uint64Var(&c.seed, "seed", 1, "spike: random seed of the moments and choices")
	fs.BoolVar(&c.edit, "edit", true, "spike: answer a pressed button in place of its question, as cmd/faros does by default (FAROS_TELEGRAM_EDIT_ANSWERS)")
	return c
}

// spiker is one person of the spike.
type spiker struct {
	chat      int64
	at        time.Duration // when they send /start, from the window's start
	screens   bool
	emergency int // the step (index in route) at which they type the emergency word; -1: never

	mu    sync.Mutex
	sent  time.Time              // /start posted
	first time.Time              // the first message to them that the fake accepted
	inbox chan telegramtest.Call // screeners only: what the fake accepted for them
}

// spikeRun is one spike under way: the people, the fake Bot API, Faros' metrics and what the
// people and the sampler gather for the report.
type spikeRun struct {
	cfg    *spikeConfig
	rep    *spikeReport
	list   []*spiker
	people map[string]*spiker // by chat id, as the fake sees it
	route  []string           // a screener's presses after "/start", in English
	fake   *telegramtest.Server
	reg    *prometheus.Registry // Faros' channel's metrics
	hook   string               // Faros' webhook URL
	client *http.Client

	accepted, updateID, postFailures atomic.Int64
	calls                            callCounts // the fake's message calls, by method and outcome
	start, drainDeadline             time.Time
	screenings                       sync.WaitGroup
	samplesMu                        sync.Mutex // rep.Samples

	mu                sync.Mutex // what the screeners measure
	stepDelays, emerg []time.Duration
	stuck, completed  int
}

// runSpike runs the spike on the Redis at redisURL, under keys it deletes after, and writes the
// report to out. Its steps, in order: the people, the fake Bot API, Faros, the sampler, the
// people's scripts, the drain, the figures.
func runSpike(redisURL string, cfg *spikeConfig, out io.Writer) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	opt.PoolSize = max(opt.PoolSize, 100) // Faros handles many webhook posts at once
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", opt.Addr, err) // the address: the URL may hold a password
	}
	prefix := "faros-spike-" + randomHex(4)
	defer deleteKeys(rdb, prefix)
	rep := &spikeReport{People: cfg.people, Window: cfg.window.String(), Redis: opt.Addr, Order: sendingOrder}
	rep.MemStart = usedMemory(ctx, rdb)

	engine, catalog, err := content.Load(content.Built())
	if err != nil {
		return err
	}
	walk, err := route(engine, "en")
	if err != nil {
		return err
	}
	r := newSpikeRun(cfg, rep, walk)
	r.startFake()
	defer r.fake.Close()
	stopFaros, err := r.startFaros(ctx, rdb, prefix, &bot.Content{Engine: engine, Catalog: catalog})
	if err != nil {
		return err
	}
	defer stopFaros()

	r.start = time.Now()
	r.drainDeadline = r.start.Add(cfg.window + cfg.drain)
	stopSampling := r.sampleEachSecond(ctx, rdb)
	r.startPeople()
	rep.Drained = r.waitForDrain()
	last := stopSampling()
	r.collect(last)
	if err := writeSpike(out, rep, cfg); err != nil {
		return err
	}
	if rep.Lost > 0 { // a person who never got an answer: the one figure that must be zero
		return fmt.Errorf("%d of %d people never got a first reply", rep.Lost, rep.People)
	}
	return nil
}

// newSpikeRun draws the people's moments and roles from the seed, so that two runs with the same
// flags send the same load.
func newSpikeRun(cfg *spikeConfig, rep *spikeReport, route []string) *spikeRun {
	r := &spikeRun{cfg: cfg, rep: rep, route: route, people: make(map[string]*spiker, cfg.people), list: make([]*spiker, cfg.people)}
	rng := rand.New(rand.NewPCG(cfg.seed, 15))
	for i := range r.list {
		p := &spiker{chat: int64(2_000_000 + i), at: time.Duration(rng.Int64N(int64(cfg.window) + 1)), emergency: -1}
		if rng.Float64() < cfg.screen {
			p.screens = true
			p.inbox = make(chan telegramtest.Call, 256)
			rep.Screeners++
			if rng.Float64() < cfg.emergency {
				p.emergency = 2 + rng.IntN(len(r.route)-2) // after the language and the safety check
				rep.Emergencies++
			}
		}
		r.list[i] = p
		r.people[strconv.FormatInt(p.chat, 10)] = p
	}
	return r
}

// startFake starts the fake Bot API under Telegram's limits. Each message it accepts (sent,
// copied or edited in place) is a person's first reply if they had none yet, and goes to a
// screener's inbox, where their script waits for it.
func (r *spikeRun) startFake() {
	r.fake = telegramtest.Start()
	r.fake.Limit(30, time.Second)
	r.fake.Stream(func(c telegramtest.Call) {
		if !isMessageCall(c.Method) {
			return
		}
		r.calls.add(c.Method, c.Status)
		if c.Status != http.StatusOK {
			return
		}
		r.accepted.Add(1)
		p := r.people[c.Params["chat_id"]]
		if p == nil {
			return
		}
		p.mu.Lock()
		if p.first.IsZero() && !p.sent.IsZero() {
			p.first = c.Time
		}
		p.mu.Unlock()
		if p.inbox != nil {
			select {
			case p.inbox <- c:
			default: // a screener who stopped reading must not hold up the fake
			}
		}
	})
}

// isMessageCall says whether a Bot API method puts a message on the person's phone, new or in
// place: what Telegram's limits count.
func isMessageCall(method string) bool {
	return method == "sendMessage" || method == "copyMessage" || method == "editMessageText"
}

// startFaros starts the bot with its production limits, and its Telegram channel in webhook mode
// with the queue at its defaults (PerSecond 28, PerChat 1.1 s), an outbox and the wipe's memory
// of message ids, as cmd/faros runs it; then serves its webhook on a loopback port. stop closes
// the channel and waits for it.
func (r *spikeRun) startFaros(ctx context.Context, rdb *redis.Client, prefix string, c *bot.Content) (stop func(), err error) {
	b, err := bot.New(bot.Config{Redis: rdb, Content: c, PseudonymKey: secret, Prefix: prefix})
	if err != nil {
		return nil, err
	}
	r.reg = prometheus.NewRegistry()
	ch, err := telegram.New(telegram.Config{Token: "1:spike", Endpoint: r.fake.URL(), Mode: "webhook", EditAnswers: r.cfg.edit,
		WebhookURL: "https://example.org/tg", WebhookSecret: hookSecret, Registerer: r.reg,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Sent: func(chatID, _ string, msgIDs []string, queued time.Time) {
			_, _ = b.Remember(context.Background(), "telegram", chatID, msgIDs, queued)
		},
		Outbox: bot.NewOutbox(rdb, prefix, "telegram", secret)}, b)
	if err != nil {
		return nil, err
	}
	stopChannel, err := runChannel(ctx, ch)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopChannel()
		return nil, err
	}
	srv := &http.Server{Handler: ch}
	go srv.Serve(ln)
	r.hook = "http://" + ln.Addr().String() + "/tg"
	r.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	return func() { srv.Close(); stopChannel() }, nil
}

// post sends an update to Faros' webhook as Telegram would; a failure is counted, not retried.
func (r *spikeRun) post(u tgbotapi.Update) {
	u.UpdateID = int(r.updateID.Add(1))
	body, _ := json.Marshal(u)
	req, _ := http.NewRequest(http.MethodPost, r.hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
	resp, err := r.client.Do(req)
	if err != nil {
		r.postFailures.Add(1)
		return
	}
	if resp.StatusCode != http.StatusOK {
		r.postFailures.Add(1)
	}
	r.fake.WebhookAnswer(resp) // a button's answer rides on the webhook's 200
}

// startPeople has each person send /start at their moment; screeners then go on through the
// screening (screen), each in their own goroutine, counted in r.screenings.
func (r *spikeRun) startPeople() {
	for _, p := range r.list {
		if p.screens {
			r.screenings.Add(1)
		}
		time.AfterFunc(p.at, func() {
			p.mu.Lock()
			p.sent = time.Now()
			p.mu.Unlock()
			if !p.screens {
				r.post(telegramtest.Text(p.chat, "/start"))
				return
			}
			go func() {
				defer r.screenings.Done()
				r.screen(p)
			}()
		})
	}
}

// screen is a screener's script: /start, then each press of the route after a human pause,
// measuring how long each reply takes, until the end, the emergency word or a reply that does
// not come (stuck).
func (r *spikeRun) screen(p *spiker) {
	r.post(telegramtest.Text(p.chat, "/start"))
	for i, want := range r.route {
		asked, data, menu, _ := r.waitFor(p, want)
		if menu && i > 3 {
			break // the screening is over
		}
		if data == "" {
			r.countStuck()
			return
		}
		time.Sleep(r.cfg.think + rand.N(r.cfg.think+1))
		drainCalls(p.inbox) // what came before the answer is not its reply
		t0 := time.Now()
		if i == p.emergency {
			r.post(telegramtest.Text(p.chat, emergencyWord))
			if c, _, _, ok := r.waitFor(p, ""); ok {
				r.record(&r.emerg, c.Time.Sub(t0))
			} else {
				r.countStuck()
			}
			return
		}
		r.post(r.fake.Press(p.chat, asked.MessageID, data)) // under the question, as Telegram shows it
		if i == len(r.route)-1 {
			break
		}
		c, _, _, ok := r.waitFor(p, "")
		if !ok {
			r.countStuck()
			return
		}
		r.record(&r.stepDelays, c.Time.Sub(t0))
		p.inbox <- c // it may carry the next question's buttons
	}
	r.mu.Lock()
	r.completed++
	r.mu.Unlock()
}

// waitFor waits for a message to the person with a button for want, or any message if want is
// "", until the drain's deadline. A message with other buttons ends the wait too: menu is true
// if it is the main menu (the screening is over: without a counsellor on duty, it goes back
// there), and data is "".
func (r *spikeRun) waitFor(p *spiker, want string) (c telegramtest.Call, data string, menu, ok bool) {
	timeout := time.NewTimer(time.Until(r.drainDeadline))
	defer timeout.Stop()
	for {
		select {
		case c := <-p.inbox:
			if want == "" {
				return c, "", false, true
			}
			if data := button(c, want); data != "" {
				return c, data, false, true
			}
			if c.Params["reply_markup"] != "" {
				return c, "", button(c, "menu.menu/check") != "", true
			}
		case <-timeout.C:
			return telegramtest.Call{}, "", false, false
		}
	}
}

// button returns the callback data want if the call has that button, or "".
func button(c telegramtest.Call, want string) string {
	var markup struct {
		InlineKeyboard [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if c.Params["reply_markup"] == "" || c.JSON("reply_markup", &markup) != nil {
		return ""
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			if b.Data == want {
				return b.Data
			}
		}
	}
	return ""
}

func drainCalls(ch chan telegramtest.Call) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
