// Package deliver is the outbound queue of every channel. It paces a channel's messages (an
// overall rate, a gap between two messages to one chat, urgent messages first), keeps each in
// a bot.Outbox until it is settled, renews its lease on them and takes over those of an
// instance that died, drops a wiped chat's messages on every instance, tries again after a
// failure, and gives a message up with a reason, counted and logged.
//
// It never reads a message: a channel hands it bytes (its own encoded request) with the chat
// they go to, and makes each attempt through its Sender, whose error says what to do next.
// docs/CHANNELS.md shows how a channel uses it.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
)

// Message is one message to deliver.
type Message struct {
	// Chat is where it goes, as the channel names chats (Telegram's chat id). A chat's messages
	// go in order, one at a time; Wipe drops them by Chat. Never logged.
	Chat string
	// Urgent messages go before every chat's ordinary ones (bot.Reply.Urgent).
	Urgent bool
	// Kind says what it is, for the logs (as their "method"): Telegram's sendMessage or
	// copyMessage. Never personal.
	Kind string
	// Payload is the channel's own request, all it needs to send the message (the text, the
	// buttons, whether it rings, what to report once sent). The queue never reads it; the
	// outbox keeps it sealed, and Sender.Decode reads it back on another instance.
	Payload []byte
}

// Sender is what a channel gives the queue.
type Sender interface {
	// Send makes one attempt to deliver m. nil means the channel took it. An error made by
	// RetryAfter has it tried again once the wait is over, without counting as a failure;
	// one made by Instead has another message tried in its place, paced as a new one; one
	// made by Refused gives it up at once, with the reason. Any other error is transient:
	// the message is tried again after Backoff, up to Config.Retries times. Send is called
	// with the chat held, so what it does after success (reporting the message's id) comes
	// before the chat's next message. Its error is logged: no text, chat id or secret in it.
	Send(ctx context.Context, m Message) error
	// Decode reads back the message whose Payload this is, as kept in the outbox by an
	// instance that stopped (perhaps of an older version): Chat, Urgent and Kind must come out
	// as they went in.
	Decode(payload []byte) (Message, error)
}

// ErrClosed is the cause of the error of a message queued after Close.
var ErrClosed = errors.New("channel closed")

// ErrWiped is the cause of the error of a message that Wipe dropped.
var ErrWiped = errors.New("chat wiped")

// Clock is the time source of the queue and of the waits between retries, so that tests can
// check a wait to the nanosecond without sleeping.
type Clock interface {
	Now() time.Time
	// At returns a channel that receives once the time is t or later. A deadline rather than a
	// duration: a fake clock moved between Now and At still fires at the time meant.
	At(t time.Time) <-chan time.Time
}

// SystemClock is the system's clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                  { return time.Now() }
func (systemClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Backoff is the wait after the n-th failure in a row: 1s, 2s, 4s... up to 30s.
func Backoff(n int) time.Duration {
	return min(time.Second<<min(n-1, 5), 30*time.Second)
}

// Config configures a Queue. Name and PerSecond are required.
type Config struct {
	// Name is the channel's, as in bot.Message.Channel: it starts the queue's log lines and
	// errors ("telegram: message given up") and names its metrics (faros_telegram_sends_total).
	Name string
	// Title names the channel in the metrics' help ("Messages Telegram accepted."). Empty
	// means Name.
	Title string
	// PerChat is the least time between two sends to one chat.
	PerChat time.Duration
	// PerSecond is the number of sends per second over all chats, spaced evenly.
	PerSecond int
	// Retries is how often a message that failed transiently is tried again; zero means never.
	Retries int
	// Outbox keeps every queued message in Redis until it is sent or given up, so that the
	// messages of an instance that died (or whose Close ran out of time) are sent by another.
	// Nil means they live in memory only.
	Outbox *bot.Outbox
	// Logger receives the queue's logs, which never hold a payload or a chat. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Registerer receives the queue's metrics. Nil means they are not registered.
	Registerer prometheus.Registerer
	// Clock paces sends and retries. Nil means SystemClock.
	Clock Clock
}

// Queue is a channel's outbound queue. New starts nothing: Deliver works through it, Close
// ends it. Its methods may be called concurrently; Close comes last.
type Queue struct {
	cfg       Config
	s         Sender
	log       *slog.Logger
	clock     Clock
	m         *metrics
	errClosed error // ErrClosed and ErrWiped, named after the channel
	errWiped  error

	mu         sync.Mutex
	q          *pacer
	closed     bool // Close began: nothing more is queued
	delivering bool // Deliver ran

	wake      chan struct{}      // tells the delivery loop that the queue changed
	aborted   context.Context    // done when Close runs out of time: sends in flight give up
	abort     context.CancelFunc //
	stopped   chan struct{}      // closed when the delivery loop has ended
	delivered chan struct{}      // closed when Deliver has returned
	inflight  sync.WaitGroup     // sends in flight; only the delivery loop adds to it

	tending     context.Context    // done when the outbox's upkeep (tend) is to stop
	stopTending context.CancelFunc //
	settledMu   sync.Mutex
	settled     []string        // outbox ids of settled messages, for flush
	wipes       map[string]wipe // by chat tag, under mu: this instance's recent wipes
	wipeCursor  int64           // of Outbox.WipedSince; only tend uses it
}

// New checks cfg and returns the queue of the channel that s sends for. It starts nothing.
func New(cfg Config, s Sender) (*Queue, error) {
	var errs []error
	if s == nil {
		errs = append(errs, errors.New("no sender"))
	}
	if cfg.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if cfg.PerChat < 0 {
		errs = append(errs, errors.New("per-chat gap is negative"))
	}
	if cfg.PerSecond <= 0 {
		errs = append(errs, errors.New("sends per second is not positive"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("deliver: config: %w", errors.Join(errs...))
	}
	if cfg.Title == "" {
		cfg.Title = cfg.Name
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock
	}
	m, err := newMetrics(cfg.Name, cfg.Title, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		cfg: cfg, s: s, log: cfg.Logger, clock: cfg.Clock, m: m,
		errClosed: fmt.Errorf("%s: %w", cfg.Name, ErrClosed),
		errWiped:  fmt.Errorf("%s: %w", cfg.Name, ErrWiped),
		q:         newPacer(cfg.PerChat, time.Second/time.Duration(cfg.PerSecond)),
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),
		delivered: make(chan struct{}),
		wipes:     map[string]wipe{},
	}
	q.aborted, q.abort = context.WithCancel(context.Background())
	q.tending, q.stopTending = context.WithCancel(context.Background())
	return q, nil
}

// Deliver sends what is queued, paced, and with an Outbox keeps it (leases, take-overs,
// wipes), until Close is done with the queue; then it returns nil. Until it runs, messages
// wait in the queue. When ctx ends first, it stops as a Close that ran out of time would, and
// what is queued stays in the Outbox. It runs once; after Close it returns at once.
func (q *Queue) Deliver(ctx context.Context) error {
	q.mu.Lock()
	again, closed := q.delivering, q.closed
	q.delivering = !closed
	q.mu.Unlock()
	switch {
	case again:
		return fmt.Errorf("%s: Deliver runs once", q.cfg.Name)
	case closed: // Close gave up what was queued
		return nil
	}
	defer close(q.delivered)
	defer context.AfterFunc(ctx, func() { q.abort(); q.stopTending() })()
	var loops sync.WaitGroup
	loops.Go(func() { q.deliver(q.aborted) })
	if q.cfg.Outbox != nil {
		loops.Go(func() { q.tend(q.tending) })
	}
	loops.Wait()
	q.inflight.Wait() // the delivery loop has ended: nothing adds to it any more
	return nil
}

// Close delivers what is queued until ctx is done; then it gives up the rest, counting and
// logging each, and returns an error. With an Outbox, what it gave up stays there for another
// instance to send, as does what is queued after Close. When Close returns, Deliver has
// returned (or, called later, returns at once).
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	delivering := q.delivering
	q.mu.Unlock()
	q.signal()
	defer func() { // once the queue is done with: the last settled messages are forgotten
		q.stopTending()
		if delivering {
			<-q.delivered
		}
	}()

	cause := fmt.Errorf("%s: Deliver did not run", q.cfg.Name)
	if delivering {
		select {
		case <-q.stopped:
			q.inflight.Wait()
			return nil
		case <-ctx.Done():
		}
		q.abort()
		<-q.stopped
		q.inflight.Wait() // the sends in flight give themselves up
		cause = ctx.Err()
	}
	q.mu.Lock()
	left := q.q.drain()
	q.mu.Unlock()
	q.m.depth.Set(0)
	for _, o := range left {
		q.giveUp(o, reasonShutdown, cause)
	}
	if !delivering && len(left) == 0 {
		return nil
	}
	return fmt.Errorf("%s: close: %d messages not sent: %w", q.cfg.Name, len(left), cause)
}

// Send queues msgs, all for one chat, and waits until the channel has taken them all or one
// is given up, whose error it returns. When ctx is done first, Send returns its error and the
// messages stay queued: do not send them again. op names the caller in the errors ("send").
// After Close it returns an error wrapping ErrClosed; with an Outbox the messages stay there
// for another instance.
func (q *Queue) Send(ctx context.Context, op string, msgs []Message) error {
	results := make(chan error, len(msgs)) // room for every outcome: no sender ever blocks
	items := make([]*item, len(msgs))
	for i, m := range msgs {
		items[i] = &item{Message: m, op: op, result: results}
	}
	if err := q.enqueue(items); err != nil {
		return err
	}
	var first error
	for range msgs {
		select {
		case err := <-results:
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			return fmt.Errorf("%s: %s: %w", q.cfg.Name, op, ctx.Err())
		}
	}
	return first
}

// Post queues msgs, all for one chat, without waiting for them: the replies to a message
// received. After Close it gives them up (counted and logged) and returns an error wrapping
// ErrClosed.
func (q *Queue) Post(msgs []Message) error {
	items := make([]*item, len(msgs))
	for i, m := range msgs {
		items[i] = &item{Message: m}
	}
	return q.enqueue(items)
}

// enqueue keeps messages in the outbox and hands them to the delivery loop. It gives up those
// of a chat wiped since they were kept, and after Close all of them, which then stay in the
// outbox for another instance.
func (q *Queue) enqueue(msgs []*item) error {
	q.keep(msgs)
	var wiped []*item
	q.mu.Lock()
	closed := q.closed
	for _, o := range msgs {
		switch {
		case closed:
		case q.wipedBefore(o): // a Wipe ran between keep and here
			wiped = append(wiped, o)
		default:
			q.q.push(o)
		}
	}
	q.m.depth.Set(float64(q.q.n))
	q.mu.Unlock()
	q.signal()
	if closed { // not settled: with an Outbox, they wait there for another instance
		for _, o := range msgs {
			q.giveUp(o, reasonClosed, q.errClosed)
		}
		return q.errClosed
	}
	for _, o := range wiped {
		q.giveUp(o, reasonWiped, q.errWiped)
	}
	q.settle(wiped...)
	return nil
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// deliver sends the queued messages, each when the pacer says, until Close has emptied the
// queue or aborts.
func (q *Queue) deliver(ctx context.Context) {
	defer close(q.stopped)
	for {
		q.mu.Lock()
		if q.closed && q.q.n == 0 {
			q.mu.Unlock()
			return
		}
		now := q.clock.Now()
		o, wait := q.q.take(now)
		q.mu.Unlock()
		if o != nil {
			q.inflight.Add(1)
			go q.attempt(ctx, o)
			continue
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = q.clock.At(now.Add(wait))
		}
		select {
		case <-timer:
		case <-q.wake:
		case <-ctx.Done():
			return
		}
	}
}

// attempt makes one Send and settles the message: sent, tried again later or given up. A
// RetryAfter is waited out exactly and does not count as a failure: the channel said when to
// come back.
func (q *Queue) attempt(ctx context.Context, o *item) {
	defer q.inflight.Done()
	err := q.s.Send(ctx, o.Message)

	var wait *retryAfter
	var other *instead
	var refusal *refused
	reason := ""
	q.mu.Lock()
	now := q.clock.Now()
	switch {
	case err == nil:
		q.q.done(o)
	case o.wiped: // before a shutdown: a wiped message must not be left for another instance
		q.q.done(o)
		reason = reasonWiped
	case ctx.Err() != nil:
		q.q.done(o)
		reason = reasonShutdown
	case errors.As(err, &wait):
		q.q.retry(o, now.Add(wait.d))
		if wait.flood {
			q.m.flood.Inc()
		}
	case errors.As(err, &other): // after the chat's gap, as a message of its own
		o.Payload, o.Kind = other.m.Payload, other.m.Kind
		q.q.retry(o, now)
	case errors.As(err, &refusal):
		q.q.done(o)
		reason = refusal.reason
	case o.tries >= q.cfg.Retries:
		q.q.done(o)
		reason = reasonRetries
	default:
		o.tries++
		q.q.retry(o, now.Add(Backoff(o.tries)))
	}
	q.m.depth.Set(float64(q.q.n))
	q.mu.Unlock()
	q.signal()

	if err == nil || (reason != "" && reason != reasonShutdown) {
		q.settle(o) // what Close could not send stays for another instance
	}
	switch {
	case err == nil:
		q.m.sends.Inc()
		if o.result != nil {
			o.result <- nil
		}
	case reason != "":
		q.giveUp(o, reason, err)
	}
}

// giveUp counts and logs a message that will not be sent, without its payload or chat, and
// tells whoever waits for it.
func (q *Queue) giveUp(o *item, reason string, err error) {
	q.m.givenUp.WithLabelValues(reason).Inc()
	q.log.Warn(q.cfg.Name+": message given up", "method", o.Kind, "reason", reason, "urgent", o.Urgent,
		"in_outbox", o.box != "" && (reason == reasonShutdown || reason == reasonClosed), "error", err)
	if o.result != nil {
		o.result <- fmt.Errorf("%s: %s: message given up (%s): %w", q.cfg.Name, o.op, reason, err)
	}
}
