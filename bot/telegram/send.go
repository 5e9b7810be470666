package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
)

// maxText is the longest text of one message, in UTF-16 code units as Telegram counts.
const maxText = 4096

// Why a message was given up: the values of the reason label.
const (
	reasonBlocked  = "blocked"           // 403: the person blocked the bot or left
	reasonRejected = "rejected"          // another 4xx: chat not found, bad request
	reasonRetries  = "retries_exhausted" // network errors or 5xx, Retries times over
	reasonShutdown = "shutdown"          // still queued when Close ran out of time
	reasonClosed   = "closed"            // handed over after Close: left in the outbox
	reasonWiped    = "wiped"             // queued, or in flight and then failed, when Wipe ran for its chat
)

// Send queues replies for the chat and waits until Telegram has taken them all or a message is
// given up, whose error it returns. When ctx is done first, Send returns its error and the
// replies stay queued: do not send them again.
func (c *Channel) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	// The chat id is left out of errors, which get logged.
	if !isInt(chatID) {
		return errors.New("telegram: send: chat id is not a number")
	}
	return c.sendAndWait(ctx, "send", messages(chatID, replies))
}

// sendAndWait queues msgs, all for one chat, and waits until Telegram has taken them all or
// one is given up, whose error it returns. op names the caller in the error of a done ctx.
func (c *Channel) sendAndWait(ctx context.Context, op string, msgs []*outgoing) error {
	results := make(chan error, len(msgs)) // room for every outcome: no sender ever blocks
	for _, o := range msgs {
		o.result = results
	}
	if err := c.enqueue(msgs); err != nil {
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
			return fmt.Errorf("telegram: %s: %w", op, ctx.Err())
		}
	}
	return first
}

// messages turns replies into sendMessage calls: a text too long for one message becomes
// several, and the buttons go with the last. Every part rings, is forgotten and is tagged as
// its reply says.
func messages(chatID string, replies []bot.Reply) []*outgoing {
	var msgs []*outgoing
	for _, r := range replies {
		parts := split(r.Text, maxText)
		for i, text := range parts {
			var buttons []bot.Button
			if i == len(parts)-1 {
				buttons = r.Buttons
			}
			msgs = append(msgs, &outgoing{
				chat:   chatID,
				params: sendParams(chatID, text, buttons, r.Ring),
				urgent: r.Urgent,
				forget: r.Forget,
				tag:    r.Tag,
			})
		}
	}
	return msgs
}

// sendParams are the parameters of sendMessage. protect_content keeps the messages from being
// forwarded or saved. disable_notification keeps the phone quiet, since someone else may hold
// it, unless the message is to ring: a counsellor must hear an alert. The library's
// MessageConfig predates protect_content.
func sendParams(chatID, text string, buttons []bot.Button, ring bool) tgbotapi.Params {
	p := tgbotapi.Params{
		"chat_id":         chatID,
		"text":            text,
		"protect_content": "true",
	}
	if !ring {
		p["disable_notification"] = "true"
	}
	if len(buttons) > 0 {
		rows := make([][]tgbotapi.InlineKeyboardButton, len(buttons))
		for i, b := range buttons {
			rows[i] = tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Data))
		}
		markup, _ := json.Marshal(tgbotapi.NewInlineKeyboardMarkup(rows...)) // strings only: never fails
		p["reply_markup"] = string(markup)
	}
	return p
}

// split cuts text into parts of at most max UTF-16 code units, at the last line break before
// the limit, else at the last space, else anywhere; the line break or space is dropped.
func split(text string, max int) []string {
	var parts []string
	for {
		cut, units, lastBreak, lastSpace := -1, 0, -1, -1
		for i, r := range text {
			switch r { // before the limit check: a break right at the limit is dropped, so it fits
			case '\n':
				lastBreak = i
			case ' ':
				lastSpace = i
			}
			units += utf16.RuneLen(r)
			if units > max {
				cut = i
				break
			}
		}
		if cut < 0 {
			return append(parts, text)
		}
		next := cut
		if lastBreak > 0 {
			cut, next = lastBreak, lastBreak+1
		} else if lastSpace > 0 {
			cut, next = lastSpace, lastSpace+1
		}
		parts = append(parts, text[:cut])
		text = text[next:]
	}
}

// enqueue keeps messages in the outbox and hands them to the delivery loop. It gives up those
// of a chat wiped since they were kept, and after Close all of them, which then stay in the
// outbox for another instance.
func (c *Channel) enqueue(msgs []*outgoing) error {
	c.keep(msgs)
	var wiped []*outgoing
	c.mu.Lock()
	closed := c.closed
	for _, o := range msgs {
		switch {
		case closed:
		case c.wipedBefore(o): // a Wipe ran between keep and here
			wiped = append(wiped, o)
		default:
			c.q.push(o)
		}
	}
	c.m.depth.Set(float64(c.q.n))
	c.mu.Unlock()
	c.signal()
	if closed { // not settled: with an Outbox, they wait there for another instance
		for _, o := range msgs {
			c.giveUp(o, reasonClosed, ErrClosed)
		}
		return ErrClosed
	}
	for _, o := range wiped {
		c.giveUp(o, reasonWiped, ErrWiped)
	}
	c.settle(wiped...)
	return nil
}

func (c *Channel) signal() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// deliver sends the queued messages, each when the queue says, until Close has emptied the
// queue or aborts.
func (c *Channel) deliver(ctx context.Context) {
	defer close(c.stopped)
	for {
		c.mu.Lock()
		if c.closed && c.q.n == 0 {
			c.mu.Unlock()
			return
		}
		now := c.clock.Now()
		o, wait := c.q.take(now)
		c.mu.Unlock()
		if o != nil {
			c.inflight.Add(1)
			go c.attempt(ctx, o)
			continue
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = c.clock.At(now.Add(wait))
		}
		select {
		case <-timer:
		case <-c.wake:
		case <-ctx.Done():
			return
		}
	}
}

// attempt makes one sendMessage (or copyMessage) call and settles the message: sent, tried
// again later or given up. A 429 is waited out exactly and does not count as a failure:
// Telegram said when to come back.
func (c *Channel) attempt(ctx context.Context, o *outgoing) {
	defer c.inflight.Done()
	resp, err := c.bot(ctx).MakeRequest(o.apiMethod(), o.params)
	err = redact(err, c.cfg.Token)
	if err == nil && !o.forget && c.cfg.Sent != nil {
		c.report(o, resp.Result) // the chat is still busy: its next message waits for this
	}

	var apiErr *tgbotapi.Error
	isAPI := errors.As(err, &apiErr)
	reason := ""
	c.mu.Lock()
	now := c.clock.Now()
	switch {
	case err == nil:
		c.q.done(o)
	case o.wiped: // before a shutdown: a wiped message must not be left for another instance
		c.q.done(o)
		reason = reasonWiped
	case ctx.Err() != nil:
		c.q.done(o)
		reason = reasonShutdown
	case isAPI && apiErr.Code == http.StatusTooManyRequests:
		c.q.retry(o, now.Add(retryAfter(apiErr)))
		c.m.flood.Inc()
	case isAPI && apiErr.Code >= 400 && apiErr.Code < 500:
		c.q.done(o)
		reason = reasonRejected
		if apiErr.Code == 403 {
			reason = reasonBlocked
		}
	case o.tries >= c.cfg.Retries:
		c.q.done(o)
		reason = reasonRetries
	default:
		o.tries++
		c.q.retry(o, now.Add(backoff(o.tries)))
	}
	c.m.depth.Set(float64(c.q.n))
	c.mu.Unlock()
	c.signal()

	if err == nil || (reason != "" && reason != reasonShutdown) {
		c.settle(o) // what Close could not send stays for another instance
	}
	switch {
	case err == nil:
		c.m.sends.Inc()
		if o.result != nil {
			o.result <- nil
		}
	case reason != "":
		c.giveUp(o, reason, err)
	}
}

// report tells Config.Sent the id of a message Telegram accepted, which its result holds: the
// Message that sendMessage returns or the MessageId that copyMessage does, both with a
// message_id.
func (c *Channel) report(o *outgoing, result json.RawMessage) {
	var m struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(result, &m); err != nil || m.MessageID == 0 {
		c.log.Warn("telegram: sent message has no message_id", "error", err)
		return
	}
	c.cfg.Sent(o.chat, o.tag, []string{strconv.FormatInt(m.MessageID, 10)})
}

// retryAfter is how long a 429 says to wait. Telegram always gives retry_after with a 429; a
// second is a guess should it not.
func retryAfter(err *tgbotapi.Error) time.Duration {
	return max(time.Duration(err.RetryAfter)*time.Second, time.Second)
}

// giveUp counts and logs a message that will not be sent, without its text or chat, and tells
// whoever waits for it.
func (c *Channel) giveUp(o *outgoing, reason string, err error) {
	c.m.givenUp.WithLabelValues(reason).Inc()
	c.log.Warn("telegram: message given up", "method", o.apiMethod(), "reason", reason, "urgent", o.urgent,
		"in_outbox", o.box != "" && (reason == reasonShutdown || reason == reasonClosed), "error", err)
	if o.result != nil {
		op := "send"
		if o.method == methodCopy {
			op = "copy"
		}
		o.result <- fmt.Errorf("telegram: %s: message given up (%s): %w", op, reason, err)
	}
}

// request makes one call of a method the library predates and tries it again after a 429
// (once its retry_after has passed), a 5xx or a network error, up to Config.Retries times. Its
// error never carries the token.
func (c *Channel) request(ctx context.Context, method string, params tgbotapi.Params) error {
	for tries := 1; ; tries++ {
		_, err := c.bot(ctx).MakeRequest(method, params)
		err = redact(err, c.cfg.Token)
		var apiErr *tgbotapi.Error
		isAPI := errors.As(err, &apiErr)
		wait := backoff(tries)
		switch {
		case err == nil || tries > c.cfg.Retries || ctx.Err() != nil:
			return err
		case isAPI && apiErr.Code == http.StatusTooManyRequests:
			wait = retryAfter(apiErr)
		case isAPI && apiErr.Code < 500:
			return err
		}
		select {
		case <-c.clock.At(c.clock.Now().Add(wait)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
