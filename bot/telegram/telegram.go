// Package telegram connects Faros to Telegram's Bot API: it receives updates by long polling or
// webhook, hands them to a bot.Handler, delivers the replies through the paced outbound queue of
// package deliver (of which it keeps only what is Telegram's: the requests, 429's retry_after,
// 403) and deletes a conversation's messages on request.
//
// What it sends: texts (sendMessage), cut into parts of Telegram's 4,096 characters, with the
// buttons under the last part; with Config.EditAnswers, the answer to a pressed button in place
// of the question it was under (editMessageText), where that is sure to be right (edit.go); and
// copies of a person's messages for their counsellor (Copy, copyMessage). Every message is
// protected from forwarding and saving. A person's phone never makes a sound for a message,
// since someone else may hold it; a counsellor's does, for the replies with bot.Reply.Ring and
// for every copy. Telegram's id of each message (an edited one keeps its id) goes to
// Config.Sent with the bot.Reply's Tag, to be deleted later by Wipe (the person's whole chat)
// or Delete (some messages, such as a closed case's in a counsellor's chat).
//
// What it receives: texts, pressed buttons, and the kind of anything else (a photo, a voice
// note...) with its caption, never the thing itself; which message a message answers; of the
// person, only their language code, never a name, username or user id.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/deliver"
)

// Config configures a Channel. Only Token is required in polling mode; webhook mode also needs
// WebhookURL and WebhookSecret.
type Config struct {
	// Token is the bot's token from BotFather. It never appears in logs or errors.
	Token string
	// Endpoint is the Bot API URL pattern with two %s, the token then the method. Empty means
	// "https://api.telegram.org/bot%s/%s".
	Endpoint string
	// HTTPClient makes the API requests. Nil means a client with a 60s timeout that keeps a
	// connection open for each send a second; a client's Timeout must exceed the 30s long poll.
	HTTPClient *http.Client
	// Mode is "polling" or "webhook". Empty means "polling".
	Mode string
	// WebhookURL is the public HTTPS URL Telegram posts updates to, served by ServeHTTP.
	// Required in webhook mode, unused in polling mode.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends with every update: 1-256 of A-Z, a-z,
	// 0-9, _ and -. Required in webhook mode; empty makes ServeHTTP reject every request.
	WebhookSecret string
	// PerChat is the minimum gap between two sends to one chat. Zero means 1.1s: Telegram
	// allows about one a second and counts when a message arrives, which the network delays
	// by more for some messages than for others.
	PerChat time.Duration
	// PerSecond is the number of sends per second over all chats, spaced evenly. Zero means
	// 28, a little under Telegram's 30, for the same reason.
	PerSecond int
	// Retries is how often a send that failed on the network or with a 5xx is tried again, and
	// a deletion of Wipe or Delete that failed so or with a 429. Zero means 3; negative means
	// never. A send that waits while Run finds Telegram down does not count (see Run).
	Retries int
	// RetryBase is Run's first wait after Telegram did not answer getMe: the waits double up
	// to 60 times it, and a refused token is asked again every 60 times it. Zero means 1s (so
	// a minute at most).
	RetryBase time.Duration
	// TokenName is where the operator sets Token (FAROS_TELEGRAM_TOKEN), named in the error
	// logged when Telegram refuses it. Empty means "the token".
	TokenName string
	// Logger receives the channel's logs, which never hold a text, a chat id or the token.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the channel's metrics. Nil means they are not registered.
	Registerer prometheus.Registerer
	// Clock paces sends and retries. Nil means the system clock.
	Clock Clock
	// Sent is told the message_id of every message Telegram accepted, each part of a long text
	// on its own, and of every copy, except those of a bot.Reply with Forget: the ids to pass to
	// Wipe or Delete later. A message edited in place (EditAnswers) is told again, by the id it
	// kept. tag is the bot.Reply's Tag, or the one given to Copy. It is called
	// without locks before the chat's next message goes, so a chat's ids come in order; it
	// should return quickly. queued is when the message was queued (zero if unknown): a wipe
	// of the chat after it means the message was on its way during the wipe. Nil means nobody
	// is told.
	Sent func(chatID, tag string, msgIDs []string, queued time.Time)
	// EditAnswers answers a pressed button by replacing the question it is under with the first
	// reply (editMessageText), where that is sure to be right (see edit.go), instead of sending
	// a new message: fewer messages on the person's phone. Off: every reply is a new message.
	EditAnswers bool
	// Outbox keeps every queued message in Redis until it is sent or given up, so that the
	// messages of an instance that died (or whose Close ran out of time) are sent by another.
	// Nil means they live in memory only.
	Outbox *bot.Outbox
}

// Clock is the time source of the outbound queue and of the waits between retries, so that tests
// can check a wait to the nanosecond without sleeping.
type Clock = deliver.Clock

// ErrClosed is the cause of the error Send and Copy return after Close.
var ErrClosed = deliver.ErrClosed

// ErrWiped is the cause of the error Send returns for a message that Wipe dropped.
var ErrWiped = deliver.ErrWiped

// Channel is the Telegram channel: Run receives updates, ServeHTTP serves them in webhook mode,
// Send, Copy and the replies to updates leave through one outbound queue, which Deliver works
// through. New starts nothing. Its methods may be called concurrently; Close comes last.
type Channel struct {
	cfg   Config
	h     bot.Handler
	api   *tgbotapi.BotAPI
	http  *http.Client
	log   *slog.Logger
	clock Clock
	out   *deliver.Queue // the paced queue over Config.Outbox
	link  *link          // whether Telegram answers, as Run found
	probe chan struct{}  // a send suspects Telegram is down: Run checks (suspect)
	// screens is what this instance knows of each chat's latest message, for EditAnswers;
	// nil when it is off.
	screens *screens

	hooked atomic.Bool // the webhook is set (webhook mode)

	// receiving counts Run and the webhook updates being handled; Stop shuts it.
	receiving  *gate
	intake     context.Context    // done once Stop began: Run stops asking for updates
	stopIntake context.CancelFunc //
	cut        context.Context    // done when the updates being handled are cut off
	cutOff     context.CancelFunc //
}

var _ bot.Sender = (*Channel)(nil)
var _ bot.Wiper = (*Channel)(nil)
var _ http.Handler = (*Channel)(nil)

var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// quietLibrary silences the library's logger, which prints errors that carry the token.
var quietLibrary sync.Once

// New checks cfg. It starts nothing and asks Telegram nothing: Run asks who the bot is (getMe)
// and receives updates, Deliver sends what is queued.
func New(cfg Config, h bot.Handler) (*Channel, error) {
	if err := cfg.check(h); err != nil {
		return nil, err
	}
	cfg.defaults()
	quietLibrary.Do(func() { _ = tgbotapi.SetLogger(stdlog.New(io.Discard, "", 0)) })

	// The library's constructor asks getMe: the client is made without it.
	api := &tgbotapi.BotAPI{Token: cfg.Token, Client: cfg.HTTPClient, Buffer: 100}
	api.SetAPIEndpoint(cfg.Endpoint)

	c := &Channel{cfg: cfg, h: h, api: api, http: cfg.HTTPClient, log: cfg.Logger, clock: cfg.Clock, receiving: newGate(),
		link: newLink(), probe: make(chan struct{}, 1)}
	if cfg.EditAnswers {
		c.screens = newScreens()
	}
	var err error
	c.out, err = deliver.New(deliver.Config{Name: "telegram", Title: "Telegram", PerChat: cfg.PerChat,
		PerSecond: cfg.PerSecond, Retries: cfg.Retries, Outbox: cfg.Outbox, Logger: cfg.Logger,
		Registerer: cfg.Registerer, Clock: cfg.Clock}, courier{c})
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	c.intake, c.stopIntake = context.WithCancel(context.Background())
	c.cut, c.cutOff = context.WithCancel(context.Background())
	return c, nil
}

// check reports every problem of cfg at once.
func (cfg Config) check(h bot.Handler) error {
	var errs []error
	if h == nil {
		errs = append(errs, errors.New("no handler"))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is empty"))
	}
	if cfg.Endpoint != "" && strings.Count(cfg.Endpoint, "%s") != 2 {
		errs = append(errs, errors.New("endpoint needs two %s, for the token and the method"))
	}
	switch cfg.Mode {
	case "", "polling":
	case "webhook":
		if u, err := url.Parse(cfg.WebhookURL); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, errors.New("webhook mode needs an absolute webhook URL"))
		}
		if !secretToken.MatchString(cfg.WebhookSecret) {
			errs = append(errs, errors.New("webhook mode needs a webhook secret of 1-256 A-Z, a-z, 0-9, _ or -"))
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q is neither polling nor webhook", cfg.Mode))
	}
	if cfg.PerChat < 0 {
		errs = append(errs, errors.New("per-chat gap is negative"))
	}
	if cfg.PerSecond < 0 {
		errs = append(errs, errors.New("sends per second is negative"))
	}
	if cfg.RetryBase < 0 {
		errs = append(errs, errors.New("retry base is negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("telegram: config: %w", errors.Join(errs...))
	}
	return nil
}

func (cfg *Config) defaults() {
	if cfg.Endpoint == "" {
		cfg.Endpoint = tgbotapi.APIEndpoint
	}
	if cfg.Mode == "" {
		cfg.Mode = "polling"
	}
	if cfg.PerChat == 0 {
		cfg.PerChat = 1100 * time.Millisecond
	}
	if cfg.PerSecond == 0 {
		cfg.PerSecond = 28
	}
	if cfg.HTTPClient == nil {
		// Requests run side by side: the sends, as many as Telegram takes a second times how
		// long each takes, and the answers to pressed buttons. api.telegram.org speaks HTTP/2,
		// one connection for them all; but over HTTP/1.1 (a Bot API server of one's own, a
		// proxy) Go keeps two idle connections to a host and 100 in all, and closes the
		// others, so most requests would open a new connection: keep one for each send a
		// second, and as many again for the answers.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 2*cfg.PerSecond, 2*cfg.PerSecond
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: t}
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 3
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = deliver.SystemClock
	}
}

// Run receives updates until ctx is done or Stop begins, then returns nil once the updates it
// took are handled. First it asks Telegram who the bot is (getMe) and, in webhook mode,
// registers WebhookURL, again and again until Telegram answers (see connect): an outage or a
// refused token is logged and shown by Ready, never returned, so that the rest of Faros serves
// meanwhile. Then, in polling mode, it long-polls getUpdates; in webhook mode it leaves the
// updates to ServeHTTP. Whenever Telegram does not answer, sends wait for it in the queue (and
// its outbox) instead of using up their retries, until Run finds it back.
func (c *Channel) Run(ctx context.Context) error {
	if !c.receiving.enter() {
		return nil // stopped
	}
	defer c.receiving.leave()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.intake, cancel)()
	if !c.connect(ctx) {
		return nil
	}
	var watching sync.WaitGroup
	watching.Go(func() { c.watch(ctx) })
	defer func() { cancel(); watching.Wait() }()
	if c.cfg.Mode == "webhook" {
		<-ctx.Done()
		return nil
	}
	return c.poll(ctx)
}

// Deliver sends what is queued, paced, and with an Outbox keeps it (leases, take-overs,
// wipes), until Close is done with the queue; then it returns nil. Until it runs, messages
// wait in the queue. When ctx ends first, it stops as a Close that ran out of time would, and
// what is queued stays in the Outbox. It runs once; after Close it returns at once.
func (c *Channel) Deliver(ctx context.Context) error { return c.out.Deliver(ctx) }

// Stop stops receiving: Run stops asking for updates, and ServeHTTP refuses them with 503, for
// Telegram to deliver them again (to another instance, or to this one restarted). It waits
// until the updates taken are handled and their replies queued, or until ctx is done: then it
// cuts them off, and waits for them to return. Close calls it first.
func (c *Channel) Stop(ctx context.Context) {
	c.stopIntake()
	idle := c.receiving.shut()
	select {
	case <-idle:
		return
	case <-ctx.Done():
	}
	c.cutOff()
	<-idle
}

// handling is the context an update is handled under: it carries ctx's values but not its
// end, so that stopping the intake does not cut off a message half handled (an update marked
// seen and not answered would be lost: Telegram's redelivery is then a duplicate). Stop cuts it
// off when its time runs out. Call the func when the update is handled.
func (c *Channel) handling(ctx context.Context) (context.Context, func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(c.cut, cancel)
	return hctx, func() { stop(); cancel() }
}

// Close stops the channel: it calls Stop, then delivers what is queued until ctx is done;
// then it gives up the rest, counting and logging each, and returns an error. With an Outbox,
// what it gave up stays there for another instance to send, as does what is queued after
// Close. When Close returns, Run and Deliver have returned (or, called later, return at once).
func (c *Channel) Close(ctx context.Context) error {
	c.Stop(ctx)
	return c.out.Close(ctx)
}

// gate counts work in flight (Run, webhook updates being handled) and, once shut, refuses
// more. Unlike a sync.WaitGroup, nothing can start while it is waited for, and the wait can
// end at a deadline.
type gate struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed once shut with nothing in flight
}

func newGate() *gate { return &gate{idle: make(chan struct{})} }

// enter counts one more in flight, unless the gate is shut.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n--; g.n == 0 && g.closed {
		close(g.idle)
	}
}

// shut refuses more, and returns a channel closed once nothing is in flight.
func (g *gate) shut() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		if g.n == 0 {
			close(g.idle)
		}
	}
	return g.idle
}

// bot returns the API client with its requests bound to ctx, which the library's methods do not
// take: without it a long poll would outlive Run.
func (c *Channel) bot(ctx context.Context) *tgbotapi.BotAPI {
	b := *c.api
	b.Client = boundClient{ctx: ctx, c: c.http}
	return &b
}

type boundClient struct {
	ctx context.Context
	c   *http.Client
}

func (b boundClient) Do(r *http.Request) (*http.Response, error) {
	return b.c.Do(r.WithContext(b.ctx))
}

// redact returns err with the token taken out of its text. The library's transport errors carry
// the request URL, and the URL carries the token. Telegram's own errors (*tgbotapi.Error) come
// back as they are, since callers read their code and retry_after.
func redact(err error, token string) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*tgbotapi.Error); ok {
		return err
	}
	msg := err.Error()
	for _, t := range []string{token, url.PathEscape(token), url.QueryEscape(token)} {
		msg = strings.ReplaceAll(msg, t, "<token>")
	}
	// Only the context's sentinel errors stay reachable: the rest of the chain holds the URL.
	var cause error
	switch {
	case errors.Is(err, context.Canceled):
		cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		cause = context.DeadlineExceeded
	}
	return &redactedError{msg: msg, cause: cause}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
