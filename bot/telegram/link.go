package telegram

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot/deliver"
)

// Telegram may be unreachable when Faros starts, or refuse the token: the rest of Faros serves
// all the same. Run asks Telegram who the bot is (getMe) and, in webhook mode, sets the
// webhook, again and again with a backoff until it succeeds; only then does it poll. Until
// then, and whenever Run finds Telegram down again, the queue's sends wait for it (held, never
// given up): see link.wait. Ready says whether Telegram answers.

// errNotAsked is why a channel whose Run has not reached Telegram yet is not ready.
var errNotAsked = errors.New("not asked yet")

// holdFor is how long a send waits for Telegram to come back before it hands its message back
// to the queue, to be tried again at once: a wipe can then drop it, and Close can end.
const holdFor = time.Second

// link is what Run knows of Telegram.
type link struct {
	mu   sync.Mutex
	err  error         // why the channel is not ready; nil once connected
	hold bool          // Run found Telegram down, or the token refused: sends wait
	up   chan struct{} // closed while connected
}

func newLink() *link { return &link{err: errNotAsked, up: make(chan struct{})} }

// connected notes that Telegram answered: sends go, the channel is ready.
func (l *link) connected() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		l.err, l.hold = nil, false
		close(l.up)
	}
}

// down notes that Telegram did not answer, or refused, with err: sends wait until connected.
func (l *link) down(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.up = make(chan struct{})
	}
	l.err, l.hold = err, true
}

// state returns whether sends wait, the channel closed once connected, and why the channel is
// not ready (nil if it is).
func (l *link) state() (hold bool, up <-chan struct{}, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hold, l.up, l.err
}

// Ready says whether Telegram answers: nil once getMe succeeded (and, in webhook mode, the
// webhook is set), else why not, as "not connected: ...", without the token. It is not ready
// before Run first reached Telegram, nor while Run finds Telegram down or the token refused.
func (c *Channel) Ready() error {
	if _, _, err := c.link.state(); err != nil {
		return fmt.Errorf("not connected: %w", err)
	}
	return nil
}

// waitForLink makes a send wait while Run finds Telegram down: until it is back (nil), ctx
// ends (its error: the message stays queued, in the outbox) or holdFor passes. Then it hands
// the message back to the queue, to be tried again at once without counting as a failure:
// however long Telegram is away, a message is not given up for it. Before Run first asks, and
// without Run, sends go as they come.
func (c *Channel) waitForLink(ctx context.Context) error {
	hold, up, err := c.link.state()
	if !hold {
		return nil
	}
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock.At(c.clock.Now().Add(holdFor)):
		return deliver.Held(fmt.Errorf("telegram: not connected: %w", err))
	}
}

// suspect asks Run to check Telegram now: a send failed on the network or with a 5xx. Should
// getMe fail too, sends wait until Telegram is back instead of using up their retries.
func (c *Channel) suspect() {
	select {
	case c.probe <- struct{}{}:
	default: // a check is due already
	}
}

// connect asks Telegram who the bot is (getMe) and, in webhook mode, sets the webhook (once),
// until both succeed; then it notes the channel connected and returns true. Between attempts
// it waits a backoff: RetryBase doubling up to 60 times it, with jitter; a refused token
// (401, 404), or webhook, 60 times RetryBase from the first; a 429 its retry_after. Each
// failure is logged, once at ERROR for a refusal that needs someone to act, else at WARN,
// never with the token. It returns false once ctx is done.
func (c *Channel) connect(ctx context.Context) bool {
	refusal := "" // the last refusal logged at ERROR
	for attempt := 1; ; attempt++ {
		err := c.hello(ctx)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			if hold, _, _ := c.link.state(); hold {
				c.log.Info("telegram: connected", "attempts", attempt)
			}
			c.link.connected()
			return true
		}
		wait := c.backoff(attempt)
		var apiErr *tgbotapi.Error
		isAPI := errors.As(err, &apiErr)
		refused := isAPI && apiErr.Code != http.StatusTooManyRequests && apiErr.Code < 500
		switch {
		case isAPI && apiErr.Code == http.StatusTooManyRequests:
			wait = retryAfter(apiErr)
		case refused:
			wait = c.slowest()
			err = c.refused(err, apiErr)
		}
		c.link.down(err)
		if refused && err.Error() != refusal {
			refusal = err.Error()
			c.log.Error("telegram: refused: Telegram is off, the rest of Faros serves; tried again every minute or so",
				"error", err, "attempt", attempt, "retry_in_seconds", wait.Seconds())
		} else {
			c.log.Warn("telegram: not connected: tried again later", "error", err, "attempt", attempt,
				"retry_in_seconds", wait.Seconds())
		}
		select {
		case <-c.clock.At(c.clock.Now().Add(wait)):
		case <-ctx.Done():
			return false
		}
	}
}

// hello makes one attempt: getMe, and in webhook mode setWebhook until it once succeeded.
func (c *Channel) hello(ctx context.Context) error {
	if _, err := c.bot(ctx).GetMe(); err != nil {
		return fmt.Errorf("get me: %w", redact(err, c.cfg.Token))
	}
	if c.cfg.Mode != "webhook" || c.hooked.Load() {
		return nil
	}
	if err := c.setWebhook(ctx); err != nil {
		return err
	}
	c.hooked.Store(true)
	return nil
}

// refused names what to fix when Telegram refuses the token (getMe: 401 Unauthorized, or 404
// for a token it cannot read) or the webhook.
func (c *Channel) refused(err error, apiErr *tgbotapi.Error) error {
	if apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusNotFound {
		what := c.cfg.TokenName
		if what == "" {
			what = "the token"
		}
		return fmt.Errorf("the bot token was refused (%d %s): check %s", apiErr.Code, apiErr.Message, what)
	}
	return err
}

// backoff is the wait after the n-th failed attempt in a row: RetryBase, doubling up to 60
// times it, each within ±20% so that instances restarted together do not ask together.
func (c *Channel) backoff(n int) time.Duration {
	return jitter(min(c.cfg.RetryBase<<min(n-1, 6), c.slowest()))
}

// slowest is the longest wait between two attempts: 60 times RetryBase, a minute by default.
func (c *Channel) slowest() time.Duration { return 60 * c.cfg.RetryBase }

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// watch checks Telegram again each time a send suspects it is down (suspect), until ctx ends.
func (c *Channel) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.probe:
			if !c.connect(ctx) {
				return
			}
		}
	}
}
