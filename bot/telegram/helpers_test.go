package telegram_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/testkit"
)

// token is the bot token of every test; no log line or error may show it.
const token = "123456:AAHsecret-Token_value"

// handler is a fake bot.Handler: it records the messages and answers with reply.
type handler struct {
	mu    sync.Mutex
	got   []bot.Message
	reply func(bot.Message) ([]bot.Reply, error) // nil: no replies
}

func (h *handler) Handle(_ context.Context, m bot.Message) ([]bot.Reply, error) {
	h.mu.Lock()
	h.got = append(h.got, m)
	h.mu.Unlock()
	if h.reply == nil {
		return nil, nil
	}
	return h.reply(m)
}

func (h *handler) messages() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.got...)
}

// env is a Channel talking to a fake Bot API.
type env struct {
	srv  *telegramtest.Server
	ch   *telegram.Channel
	logs *testkit.LogBuffer
	reg  *prometheus.Registry
}

// start makes a Channel against a new fake server, with its delivery running; edit changes its
// config. When the test ends it closes the Channel, waits for Deliver and checks that no log
// line showed the token.
func start(t *testing.T, h bot.Handler, edit func(*telegram.Config)) *env {
	t.Helper()
	e := &env{srv: telegramtest.New(t), logs: &testkit.LogBuffer{}, reg: prometheus.NewRegistry()}
	cfg := telegram.Config{
		Token:      token,
		Endpoint:   e.srv.URL(),
		Logger:     slog.New(slog.NewTextHandler(e.logs, nil)),
		Registerer: e.reg,
	}
	if edit != nil {
		edit(&cfg)
	}
	ch, err := telegram.New(cfg, h)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.ch = ch
	delivered := make(chan error, 1)
	go func() { delivered <- ch.Deliver(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = ch.Close(ctx)
		if err := <-delivered; err != nil {
			t.Errorf("Deliver: %v", err)
		}
		if logs := e.logs.String(); strings.Contains(logs, token) {
			t.Errorf("the logs show the token:\n%s", logs)
		}
	})
	return e
}

// fast lets a Channel send without noticeable pacing.
func fast(cfg *telegram.Config) {
	cfg.PerChat = time.Millisecond
	cfg.PerSecond = 1000
}

// run runs the Channel until the test ends.
func (e *env) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ch.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("Run did not return after its context was cancelled")
		}
	})
}

// metric returns the value of a counter or gauge with the given label pairs.
func (e *env) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testkit.Metric(t, e.reg, name, labels...)
}

// waitFor waits up to 5 seconds for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// send calls Send in the background, since it waits for delivery, and returns its outcome.
func (e *env) send(chatID string, replies ...bot.Reply) <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.ch.Send(context.Background(), chatID, replies) }()
	return done
}

// fakeClock is a telegram.Clock that moves only when told to by Advance or, if auto, to every
// deadline someone waits for. It records every wait asked for.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	waits  []time.Duration // from the time of asking to the deadline
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock(auto bool) *fakeClock { return &fakeClock{now: t0, auto: auto} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) At(at time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, at.Sub(c.now))
	if c.auto && at.After(c.now) {
		c.now = at
	}
	ch := make(chan time.Time, 1)
	if at.After(c.now) {
		c.timers = append(c.timers, fakeTimer{at, ch})
	} else {
		ch <- c.now
	}
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	waiting := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.now) {
			waiting = append(waiting, tm)
		} else {
			tm.c <- c.now
		}
	}
	c.timers = waiting
}

// Waits returns the waits asked for so far.
func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// Pending returns the deadlines of the waits that have not ended.
func (c *fakeClock) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var at []time.Time
	for _, tm := range c.timers {
		at = append(at, tm.at)
	}
	return at
}
