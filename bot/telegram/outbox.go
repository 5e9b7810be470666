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

// boxed is an outgoing message as the outbox keeps it. Fields are only ever added, with
// omitempty, so that an instance reads what one of an older version put: a box without a
// method is a sendMessage, one without a tag has none.
type boxed struct {
	Chat   string          `json:"c"`
	Method string          `json:"m,omitempty"`
	Params tgbotapi.Params `json:"p"` // disable_notification among them: whether it rings
	Urgent bool            `json:"u,omitempty"`
	Forget bool            `json:"f,omitempty"`
	Tag    string          `json:"t,omitempty"` // the bot.Reply's Tag, not the outbox's chat tag
}

// box is what the outbox keeps of o.
func box(o *outgoing) []byte {
	b, _ := json.Marshal(boxed{Chat: o.chat, Method: o.method, Params: o.params, Urgent: o.urgent,
		Forget: o.forget, Tag: o.tag}) // strings and bools: never fails
	return b
}

// unbox is the message an outbox kept as id.
func unbox(id string, payload []byte) (*outgoing, error) {
	var b boxed
	if err := json.Unmarshal(payload, &b); err != nil {
		return nil, err
	}
	return &outgoing{chat: b.Chat, method: b.Method, params: b.Params, urgent: b.Urgent,
		forget: b.Forget, tag: b.Tag, box: id}, nil
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
		payloads[i] = box(o)
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

// A wipe is known here for wipeMemory after it happened (by this instance) or was learnt of
// (from another): a message put before it is not queued, so that a Send or a take-over racing
// with the wipe cannot bring the chat's old messages back. Later, WipedSince and Take have it.
const wipeMemory = time.Minute

// wipe is a chat's wipe as this instance knows it.
type wipe struct {
	at    int64     // Redis' time of the wipe (bot.Outbox.Wipe): messages put before are not sent
	noted time.Time // when it was noted here, to forget it
}

// noteWipe notes, under c.mu, that the chat with this tag was wiped at at; MaxInt64 while the
// wipe is being recorded.
func (c *Channel) noteWipe(tag string, at int64) {
	if w, ok := c.wipes[tag]; !ok || at > w.at || time.Since(w.noted) > wipeMemory {
		c.wipes[tag] = wipe{at: at, noted: time.Now()}
	} else {
		c.wipes[tag] = wipe{at: w.at, noted: time.Now()}
	}
}

// wipedBefore says, under c.mu, whether o was put before a recent wipe of its chat.
func (c *Channel) wipedBefore(o *outgoing) bool {
	if c.cfg.Outbox == nil || o.box == "" || len(c.wipes) == 0 {
		return false
	}
	w, ok := c.wipes[c.cfg.Outbox.Tag(o.chat)]
	return ok && time.Since(w.noted) <= wipeMemory && bot.Before(o.box, w.at)
}

// wiping notes, with the chat's queue dropped under c.mu, that chat is being wiped.
func (c *Channel) wiping(chat string) {
	if c.cfg.Outbox != nil {
		c.wipes[c.cfg.Outbox.Tag(chat)] = wipe{at: math.MaxInt64, noted: time.Now()}
	}
}

// wiped records in the outbox that chat was wiped. Should that fail, the wipe stays noted
// here as covering every message so far, but only for a few seconds: it would also refuse
// the replies of a conversation the person starts again.
func (c *Channel) wiped(ctx context.Context, chat string) error {
	if c.cfg.Outbox == nil {
		return nil
	}
	at, err := c.cfg.Outbox.Wipe(ctx, chat)
	c.mu.Lock()
	defer c.mu.Unlock()
	tag := c.cfg.Outbox.Tag(chat)
	if err != nil {
		c.wipes[tag] = wipe{at: math.MaxInt64, noted: time.Now().Add(5*time.Second - wipeMemory)}
		return err
	}
	c.wipes[tag] = wipe{at: at, noted: time.Now()}
	return nil
}

// dropWiped learns of the wipes since the last call (and a few seconds before, should Redis'
// clock have stepped back) and drops the queued messages put before them.
func (c *Channel) dropWiped(ctx context.Context) {
	wiped, cursor, err := c.cfg.Outbox.WipedSince(ctx, c.wipeCursor-(5*time.Second).Microseconds())
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("telegram: outbox: wipes not read", "error", err)
		}
		return
	}
	c.wipeCursor = cursor
	var dropped []*outgoing
	c.mu.Lock()
	for tag, w := range c.wipes {
		if time.Since(w.noted) > wipeMemory {
			delete(c.wipes, tag)
		}
	}
	for tag, at := range wiped {
		c.noteWipe(tag, at)
	}
	if len(wiped) > 0 {
		for chat := range c.q.chats {
			dropped = append(dropped, c.q.dropIf(chat, c.wipedBefore)...)
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

// tend forgets settled messages every settleEvery and learns of wipes; every third of a lease
// it renews the lease of the messages this instance holds, lets go of those another took over
// meanwhile, and takes over those whose instance let its lease lapse. It flushes once more
// when ctx is done, and returns.
func (c *Channel) tend(ctx context.Context) {
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
		c.flush()
		c.mu.Lock()
		mine, closed := c.q.boxes(), c.closed
		c.mu.Unlock()
		c.settledMu.Lock()
		mine = append(mine, c.settled...) // sent, not yet forgotten: still ours
		c.settledMu.Unlock()
		lost, err := c.cfg.Outbox.Renew(ctx, mine...)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("telegram: outbox: lease not renewed", "error", err)
		}
		c.letGo(lost)
		if !closed {
			c.takeOver(ctx, mine)
		}
	}
}

// letGo drops the waiting messages another instance took over while this one's lease had
// lapsed: that one sends them. One in flight is sent by both.
func (c *Channel) letGo(lost []string) {
	if len(lost) == 0 {
		return
	}
	gone := make(map[string]bool, len(lost))
	for _, id := range lost {
		gone[id] = true
	}
	var dropped []*outgoing
	c.mu.Lock()
	for chat, cq := range c.q.chats {
		inFlight := func(o *outgoing) bool { return cq.busy && o == cq.items[0] }
		dropped = append(dropped, c.q.dropIf(chat, func(o *outgoing) bool { return gone[o.box] && !inFlight(o) })...)
	}
	c.m.depth.Set(float64(c.q.n))
	c.mu.Unlock()
	c.signal()
	for _, o := range dropped {
		if o.result != nil {
			o.result <- nil // another instance sends it
		}
	}
	if len(dropped) > 0 {
		c.log.Info("telegram: outbox: messages taken over by another instance", "count", len(dropped))
	}
}

// takeOver queues the messages of instances that died. mine are the ids this instance holds
// already: a lease of its own that lapsed (Redis was away) must not send them twice.
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
		if c.closed || held[p.ID] {
			continue // after Close: left in the outbox for another instance
		}
		o, err := unbox(p.ID, p.Message)
		if err != nil {
			continue
		}
		if c.wipedBefore(o) {
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
