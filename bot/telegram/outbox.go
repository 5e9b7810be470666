package telegram

import (
	"context"
	"encoding/json"
	"math"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
)

// With Config.Outbox, every queued message is also kept in Redis until it is settled (sent, or
// given up for a reason of its own), so that what an instance had queued when it died, or when
// Close ran out of time, is delivered by another instance. A wipe is recorded there too: no
// instance takes over the chat's messages, and every instance drops those it holds within
// settleEvery.

// boxed is an outgoing message as the outbox keeps it.
type boxed struct {
	Chat   string          `json:"c"`
	Params tgbotapi.Params `json:"p"`
	Urgent bool            `json:"u,omitempty"`
	Forget bool            `json:"f,omitempty"`
}

// outboxTimeout bounds one outbox call: a slow Redis must not hold up the replies for long.
const outboxTimeout = 2 * time.Second

// keep puts msgs, all for one chat, in the outbox. When Redis fails they are delivered all
// the same, from memory.
func (c *Channel) keep(msgs []*outgoing) {
	if c.cfg.Outbox == nil || len(msgs) == 0 {
		return
	}
	payloads := make([][]byte, len(msgs))
	for i, o := range msgs {
		payloads[i], _ = json.Marshal(boxed{Chat: o.chat, Params: o.params, Urgent: o.urgent, Forget: o.forget}) // strings and bools: never fails
	}
	ctx, cancel := context.WithTimeout(context.Background(), outboxTimeout)
	defer cancel()
	ids, err := c.cfg.Outbox.Put(ctx, msgs[0].chat, payloads)
	if err != nil {
		c.log.Warn("telegram: outbox unavailable; the messages are queued in memory only", "error", err)
		return
	}
	for i, o := range msgs {
		o.box = ids[i]
	}
}

// settle marks messages settled; flush, called every settleEvery, forgets them in the outbox
// in one round trip for all. Should the instance die in between, they are sent again.
func (c *Channel) settle(msgs ...*outgoing) {
	if c.cfg.Outbox == nil {
		return
	}
	c.settledMu.Lock()
	defer c.settledMu.Unlock()
	for _, o := range msgs {
		if o.box != "" {
			c.settled = append(c.settled, o.box)
		}
	}
}

// settleEvery is how often settled messages are forgotten in the outbox.
const settleEvery = 100 * time.Millisecond

// flush forgets the settled messages in the outbox.
func (c *Channel) flush() {
	if c.cfg.Outbox == nil {
		return
	}
	c.settledMu.Lock()
	ids := c.settled
	c.settled = nil
	c.settledMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), outboxTimeout)
	defer cancel()
	if err := c.cfg.Outbox.Done(ctx, ids...); err != nil {
		c.log.Warn("telegram: outbox: settled messages not forgotten yet", "count", len(ids), "error", err)
		c.settledMu.Lock()
		if len(c.settled) < 100_000 { // beyond, Redis has been away for long: another instance may send them again
			c.settled = append(c.settled, ids...)
		}
		c.settledMu.Unlock()
	}
}

// wiping notes, with the chat's queue dropped under c.mu, that chat is being wiped: until
// wiped has recorded it in the outbox (and after, for what was taken over before), takeOver
// does not queue the chat's messages.
func (c *Channel) wiping(chat string) {
	if c.cfg.Outbox != nil {
		c.wipes[chat] = wipe{at: math.MaxInt64, noted: time.Now()}
	}
}

// wiped records in the outbox that chat was wiped.
func (c *Channel) wiped(ctx context.Context, chat string) error {
	if c.cfg.Outbox == nil {
		return nil
	}
	at, err := c.cfg.Outbox.Wipe(ctx, chat)
	if err != nil {
		return err // the marker stays at "every message so far" for the minute
	}
	c.mu.Lock()
	c.wipes[chat] = wipe{at: at, noted: time.Now()}
	for chat, w := range c.wipes {
		if time.Since(w.noted) > time.Minute { // a Take older than this was queued long ago
			delete(c.wipes, chat)
		}
	}
	c.mu.Unlock()
	return nil
}

// wipe is a wipe of a chat by this instance.
type wipe struct {
	at    int64     // Redis' time of the wipe (bot.Outbox.Wipe): messages put before are not sent
	noted time.Time // when it was noted here, to forget it
}

// dropWiped drops the queued messages of chats another instance wiped since the last call.
func (c *Channel) dropWiped(ctx context.Context) {
	wiped, cursor, err := c.cfg.Outbox.WipedSince(ctx, c.wipeCursor)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("telegram: outbox: wipes not read", "error", err)
		}
		return
	}
	c.wipeCursor = cursor
	if len(wiped) == 0 {
		return
	}
	var dropped []*outgoing
	c.mu.Lock()
	for chat := range c.q.chats {
		if at, ok := wiped[c.cfg.Outbox.Tag(chat)]; ok {
			dropped = append(dropped, c.q.dropIf(chat, func(o *outgoing) bool { return o.box != "" && bot.Before(o.box, at) })...)
		}
	}
	c.m.depth.Set(float64(c.q.n))
	c.mu.Unlock()
	c.signal()
	for _, o := range dropped {
		c.giveUp(o, reasonWiped, ErrWiped)
	}
	c.settle(dropped...)
}

// tend forgets settled messages every settleEvery; every third of a lease it renews the lease
// of the messages queued here and takes over those whose instance let its lease lapse. It
// flushes once more when ctx is done, and returns.
func (c *Channel) tend(ctx context.Context) {
	defer close(c.tended)
	defer c.flush()
	settle := time.NewTicker(settleEvery)
	defer settle.Stop()
	lease := time.NewTicker(c.cfg.Outbox.Lease / 3)
	defer lease.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-settle.C:
			c.flush()
			c.dropWiped(ctx)
			continue
		case <-lease.C:
		}
		c.mu.Lock()
		mine, closed := c.q.boxes(), c.closed
		c.mu.Unlock()
		if err := c.cfg.Outbox.Renew(ctx, mine...); err != nil && ctx.Err() == nil {
			c.log.Warn("telegram: outbox: lease not renewed", "error", err)
		}
		if !closed {
			c.takeOver(ctx, mine)
		}
	}
}

// takeOver queues the messages of instances that died. mine are the ids queued here already:
// a lease of ours that lapsed (Redis was away) must not send them twice.
func (c *Channel) takeOver(ctx context.Context, mine []string) {
	taken, err := c.cfg.Outbox.Take(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("telegram: outbox: take over", "error", err)
		}
		return
	}
	held := make(map[string]bool, len(mine))
	for _, id := range mine {
		held[id] = true
	}
	// Checked and queued under one lock: a Wipe comes before or after both.
	var queued, wiped []*outgoing
	c.mu.Lock()
	for _, p := range taken {
		var b boxed
		if c.closed || held[p.ID] || json.Unmarshal(p.Message, &b) != nil {
			continue // after Close: left in the outbox for another instance
		}
		o := &outgoing{chat: b.Chat, params: b.Params, urgent: b.Urgent, forget: b.Forget, box: p.ID}
		if w, ok := c.wipes[o.chat]; ok && bot.Before(o.box, w.at) { // wiped here since Take
			wiped = append(wiped, o)
			continue
		}
		c.q.push(o)
		queued = append(queued, o)
	}
	c.m.depth.Set(float64(c.q.n))
	c.mu.Unlock()
	c.signal()
	c.settle(wiped...)
	if len(queued) > 0 {
		c.m.takenOver.Add(float64(len(queued)))
		c.log.Info("telegram: outbox: took over the messages of an instance that stopped", "count", len(queued))
	}
}
