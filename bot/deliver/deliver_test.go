package deliver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/deliver"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
)

// These tests drive the queue through a channel of their own, "pigeon", which knows nothing of
// Telegram: what a second channel plugs in, and what its own tests need not test again.

// pigeon is a deliver.Sender. Its payload is "urgent|text" ("!|text" when urgent), its chat
// travels beside it; fail holds, by text, the errors of the next attempts.
type pigeon struct {
	mu   sync.Mutex
	sent []string // "chat: text", in the order taken
	fail map[string][]error
}

func (p *pigeon) Send(_ context.Context, m deliver.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, text, _ := strings.Cut(string(m.Payload), "|")
	if errs := p.fail[text]; len(errs) > 0 {
		p.fail[text] = errs[1:]
		return errs[0]
	}
	p.sent = append(p.sent, m.Chat+": "+text)
	return nil
}

// Decode reads a payload back. The chat is not in the payload: a real channel's request holds
// it; here it is the text's first word.
func (p *pigeon) Decode(payload []byte) (deliver.Message, error) {
	flag, text, ok := strings.Cut(string(payload), "|")
	if !ok {
		return deliver.Message{}, errors.New("not a pigeon")
	}
	chat, _, _ := strings.Cut(text, " ")
	return deliver.Message{Chat: chat, Urgent: flag == "!", Kind: "coo", Payload: payload}, nil
}

func (p *pigeon) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

// note is a pigeon's message: its text starts with its chat.
func note(chat, text string, urgent bool) deliver.Message {
	flag := ""
	if urgent {
		flag = "!"
	}
	return deliver.Message{Chat: chat, Urgent: urgent, Kind: "coo", Payload: []byte(flag + "|" + chat + " " + text)}
}

// clock moves only to the deadlines waited for (when auto), recording each wait.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	auto  bool
	waits []time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) At(t time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, t.Sub(c.now))
	ch := make(chan time.Time, 1)
	if c.auto {
		c.now = t
		ch <- t
	}
	return ch
}

type env struct {
	p    *pigeon
	q    *deliver.Queue
	reg  *prometheus.Registry
	logs *testkit.LogBuffer
	clk  *clock
}

// start makes a running queue for a pigeon; edit changes its config. The queue is closed when
// the test ends.
func start(t *testing.T, edit func(*deliver.Config)) *env {
	t.Helper()
	e := &env{p: &pigeon{fail: map[string][]error{}}, reg: prometheus.NewRegistry(), logs: &testkit.LogBuffer{},
		clk: &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), auto: true}}
	cfg := deliver.Config{Name: "pigeon", PerChat: time.Second, PerSecond: 28, Retries: 3,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Registerer: e.reg, Clock: e.clk}
	if edit != nil {
		edit(&cfg)
	}
	q, err := deliver.New(cfg, e.p)
	if err != nil {
		t.Fatal(err)
	}
	e.q = q
	delivered := make(chan error, 1)
	go func() { delivered <- q.Deliver(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = q.Close(ctx)
		if err := <-delivered; err != nil {
			t.Errorf("Deliver: %v", err)
		}
	})
	return e
}

func (e *env) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return testkit.Metric(t, e.reg, "faros_pigeon_"+name, labels...)
}

// TestTheSendersErrorsDecide: nil is sent; RetryAfter waits exactly and does not count as a
// failure; Refused gives up at once with its reason; anything else is tried again after
// Backoff, Retries times. Metrics carry the channel's name.
func TestTheSendersErrorsDecide(t *testing.T) {
	transient := errors.New("network down")
	tests := []struct {
		name      string
		errs      []error
		wantErr   string
		wantWaits []time.Duration
		metric    string
		labels    []string
	}{
		{"sent", nil, "", nil, "sends_total", nil},
		{"told to wait", []error{deliver.RetryAfter(3*time.Second, errors.New("429")), deliver.RetryAfter(3*time.Second, errors.New("429")), deliver.RetryAfter(3*time.Second, errors.New("429")), deliver.RetryAfter(3*time.Second, errors.New("429"))},
			"", []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}, "429_total", nil},
		{"refused", []error{deliver.Refused(deliver.ReasonBlocked, errors.New("blocked by the user"))},
			"pigeon: send: message given up (blocked): blocked by the user", nil, "sends_given_up_total", []string{"reason", "blocked"}},
		{"a transient failure", []error{transient, transient},
			"", []time.Duration{time.Second, 2 * time.Second}, "sends_total", nil},
		{"transient failures beyond the retries", []error{transient, transient, transient, transient},
			"message given up (retries_exhausted): network down", []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			"sends_given_up_total", []string{"reason", "retries_exhausted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, nil)
			e.p.fail["a words"] = tt.errs
			err := e.q.Send(t.Context(), "send", []deliver.Message{note("a", "words", false)})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Send: %v; want an error with %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantWaits, e.clk.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			want := 1.0
			if tt.metric == "429_total" {
				want = float64(len(tt.errs))
			}
			if got := e.metric(t, tt.metric, tt.labels...); got != want {
				t.Errorf("%s %v: %v; want %v", tt.metric, tt.labels, got, want)
			}
			if logs := e.logs.String(); strings.Contains(logs, "words") || (tt.wantErr != "" && !strings.Contains(logs, "pigeon: message given up")) {
				t.Errorf("logs %q: want the give-up, without the text", logs)
			}
		})
	}
}

// TestInsteadSendsAnotherMessagePaced: an attempt refused with Instead is followed by the other
// message, once the chat's gap has passed (the refused attempt was a call like any other), in
// its place before the chat's next message; nothing counts as a failure or a 429.
func TestInsteadSendsAnotherMessagePaced(t *testing.T) {
	e := start(t, nil)
	e.p.fail["a edit"] = []error{deliver.Instead(note("a", "new", false), errors.New("message to edit not found"))}
	err := e.q.Send(t.Context(), "send", []deliver.Message{note("a", "edit", false), note("a", "next", false)})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if diff := cmp.Diff([]string{"a: a new", "a: a next"}, e.p.got()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, e.clk.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	for name, want := range map[string]float64{"sends_total": 2, "429_total": 0} {
		if got := e.metric(t, name); got != want {
			t.Errorf("%s: %v; want %v", name, got, want)
		}
	}
}

// TestUrgentGoesFirst: an urgent message of any chat goes before the ordinary ones queued
// earlier. Queued before Deliver runs, with a clock that never moves: one send, then none.
func TestUrgentGoesFirst(t *testing.T) {
	p := &pigeon{}
	q, err := deliver.New(deliver.Config{Name: "pigeon", PerSecond: 28, Clock: &clock{}, Logger: slog.New(slog.DiscardHandler)}, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []deliver.Message{note("a", "1", false), note("b", "1", false), note("c", "help", true)} {
		if err := q.Post([]deliver.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	delivered := make(chan error, 1)
	go func() { delivered <- q.Deliver(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(p.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.Close(ctx); err == nil || !strings.Contains(err.Error(), "2 messages not sent") {
		t.Errorf("Close: %v; want the two ordinary messages not sent", err)
	}
	<-delivered
	if diff := cmp.Diff([]string{"c: c help"}, p.got()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

// TestWipeDropsTheChatsMessages: what is queued for a wiped chat is given up with ErrWiped;
// other chats go on.
func TestWipeDropsTheChatsMessages(t *testing.T) {
	clk := &clock{}
	e := start(t, func(cfg *deliver.Config) { cfg.Clock = clk })
	if err := e.q.Send(t.Context(), "send", []deliver.Message{note("a", "first", false)}); err != nil {
		t.Fatal(err)
	}
	wiped := make(chan error, 1)
	go func() { wiped <- e.q.Send(context.Background(), "send", []deliver.Message{note("a", "second", false)}) }()
	for e.metric(t, "queue_depth") != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := e.q.Wipe(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := <-wiped; !errors.Is(err, deliver.ErrWiped) {
		t.Errorf("Send of a wiped chat's message: %v; want ErrWiped", err)
	}
	if got := e.metric(t, "sends_given_up_total", "reason", "wiped"); got != 1 {
		t.Errorf("given up as wiped: %v; want 1", got)
	}
}

// TestAnotherInstanceTakesOver: what an instance queued and did not send stays in the outbox;
// another instance's queue takes it over once the lease lapses, reads it with the Sender's
// Decode, and sends it as it was, urgent first, each chat in order.
func TestAnotherInstanceTakesOver(t *testing.T) {
	r := redistest.New(t)
	outbox := func() *bot.Outbox {
		o := bot.NewOutbox(r.Client, r.Prefix, "pigeon", []byte("service secret"))
		o.Lease = 300 * time.Millisecond
		return o
	}
	stopped, err := deliver.New(deliver.Config{Name: "pigeon", PerSecond: 1000, Outbox: outbox(),
		Logger: slog.New(slog.DiscardHandler)}, &pigeon{})
	if err != nil {
		t.Fatal(err)
	}
	for _, msgs := range [][]deliver.Message{{note("a", "1", false), note("a", "2", false)}, {note("b", "help", true)}} {
		if err := stopped.Post(msgs); err != nil {
			t.Fatal(err)
		}
	}
	if err := stopped.Close(t.Context()); err == nil { // Deliver never ran: left in the outbox
		t.Fatal("Close reported everything sent")
	}

	e := start(t, func(cfg *deliver.Config) { cfg.PerChat, cfg.PerSecond, cfg.Clock = 0, 1000, nil; cfg.Outbox = outbox() })
	deadline := time.Now().Add(5 * time.Second)
	for len(e.p.got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if diff := cmp.Diff([]string{"b: b help", "a: a 1", "a: a 2"}, e.p.got()); diff != "" {
		t.Errorf("sent by the other instance (-want +got):\n%s", diff)
	}
	if got := e.metric(t, "outbox_taken_over_total"); got != 3 {
		t.Errorf("taken over: %v; want 3", got)
	}
}

// TestLifecycle: Deliver runs once; after Close a message is refused with ErrClosed, counted.
func TestLifecycle(t *testing.T) {
	e := start(t, nil)
	if err := e.q.Send(t.Context(), "send", []deliver.Message{note("a", "sent", false)}); err != nil {
		t.Fatal(err) // sent: Deliver runs
	}
	if err := e.q.Deliver(t.Context()); err == nil {
		t.Error("a second Deliver ran")
	}
	if err := e.q.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := e.q.Post([]deliver.Message{note("a", "late", false)})
	if !errors.Is(err, deliver.ErrClosed) || err.Error() != "pigeon: channel closed" {
		t.Errorf("Post after Close: %v; want pigeon: channel closed", err)
	}
	if got := e.metric(t, "sends_given_up_total", "reason", "closed"); got != 1 {
		t.Errorf("given up after Close: %v; want 1", got)
	}
	if _, err := deliver.New(deliver.Config{Name: "pigeon", PerSecond: 1, Registerer: e.reg}, e.p); err == nil {
		t.Error("a second queue of the same name registered its metrics")
	}
}
