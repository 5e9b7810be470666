package telegram

import (
	"context"
	"encoding/json"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// With Config.Outbox, every queued message is also kept in Redis until it is settled (sent, or
// given up for a reason of its own), so that what an instance had queued when it died, or when
// Close ran out of time, is delivered by another instance.

// boxed is an outgoing message as the outbox keeps it.
type boxed struct {
	Chat   string          `json:"c"`
	Params tgbotapi.Params `json:"p"`
	Urgent bool            `json:"u,omitempty"`
	Forget bool            `json:"f,omitempty"`
}

// outboxTimeout bounds one outbox call: a slow Redis must not hold up the replies for long.
const outboxTimeout = 2 * time.Second

// keep puts msgs in the outbox. When Redis fails they are delivered all the same, from memory.
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
	ids, err := c.cfg.Outbox.Put(ctx, payloads)
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
		// Another instance may send them again once their lease lapses.
		c.log.Warn("telegram: outbox: settled messages not forgotten", "count", len(ids), "error", err)
	}
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
	var msgs []*outgoing
	for _, p := range taken {
		var b boxed
		if held[p.ID] || json.Unmarshal(p.Message, &b) != nil {
			continue
		}
		msgs = append(msgs, &outgoing{chat: b.Chat, params: b.Params, urgent: b.Urgent, forget: b.Forget, box: p.ID})
	}
	if len(msgs) == 0 {
		return
	}
	c.m.takenOver.Add(float64(len(msgs)))
	c.log.Info("telegram: outbox: took over the messages of an instance that stopped", "count", len(msgs))
	_ = c.push(msgs) // after Close: left in the outbox for another instance
}
