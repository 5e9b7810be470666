package deliver

import (
	"context"
	"math"
	"time"

	"github.com/faros-project/faros/bot"
)

// With Config.Outbox, every queued message is also kept in Redis until it is settled (sent, or
// given up for a reason of its own), so that what an instance had queued when it died, or when
// Close ran out of time, is delivered by another instance. A wipe is recorded there too: no
// instance takes over the chat's messages, and every instance drops those it holds within
// settleEvery. The outbox keeps each message's Payload as it is: the channel's Decode reads it.

// outboxTimeout bounds one outbox call: a slow Redis must not hold up the replies for long.
const outboxTimeout = 2 * time.Second

// keep puts msgs, all for one chat, in the outbox. When Redis fails they are delivered all
// the same, from memory.
func (q *Queue) keep(msgs []*item) {
	if q.cfg.Outbox == nil || len(msgs) == 0 {
		return
	}
	payloads := make([][]byte, len(msgs))
	for i, o := range msgs {
		payloads[i] = o.Payload
	}
	ctx, cancel := context.WithTimeout(context.Background(), outboxTimeout)
	defer cancel()
	ids, err := q.cfg.Outbox.Put(ctx, msgs[0].Chat, payloads)
	if err != nil {
		q.log.Warn(q.cfg.Name+": outbox unavailable; the messages are queued in memory only", "error", err)
		return
	}
	for i, o := range msgs {
		o.box = ids[i]
	}
}

// settle marks messages settled; flush, called every settleEvery, forgets them in the outbox
// in one round trip for all. Should the instance die in between, they are sent again.
func (q *Queue) settle(msgs ...*item) {
	if q.cfg.Outbox == nil {
		return
	}
	q.settledMu.Lock()
	defer q.settledMu.Unlock()
	for _, o := range msgs {
		if o.box != "" {
			q.settled = append(q.settled, o.box)
		}
	}
}

// settleEvery is how often settled messages are forgotten in the outbox.
const settleEvery = 100 * time.Millisecond

// flush forgets the settled messages in the outbox.
func (q *Queue) flush() {
	if q.cfg.Outbox == nil {
		return
	}
	q.settledMu.Lock()
	ids := q.settled
	q.settled = nil
	q.settledMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), outboxTimeout)
	defer cancel()
	if err := q.cfg.Outbox.Done(ctx, ids...); err != nil {
		q.log.Warn(q.cfg.Name+": outbox: settled messages not forgotten yet", "count", len(ids), "error", err)
		q.settledMu.Lock()
		if len(q.settled) < 100_000 { // beyond, Redis has been away for long: another instance may send them again
			q.settled = append(q.settled, ids...)
		}
		q.settledMu.Unlock()
	}
}

// Wipe drops the messages still queued for chat, whose Send then returns an error wrapping
// ErrWiped, and records the wipe in the outbox, so that the other instances drop theirs and
// nobody takes over the chat's earlier messages. A message in flight is not stopped, but not
// tried again if it fails. The error, logged already, is the outbox's: the wipe is then known
// on this instance only, and for a few seconds.
func (q *Queue) Wipe(ctx context.Context, chat string) error {
	q.mu.Lock()
	dropped := q.q.drop(chat)
	q.wiping(chat)
	q.m.depth.Set(float64(q.q.n))
	q.mu.Unlock()
	q.signal() // Close may be waiting for the queue to empty
	for _, o := range dropped {
		q.giveUp(o, reasonWiped, q.errWiped)
	}
	q.settle(dropped...)
	q.flush()
	if err := q.wiped(ctx, chat); err != nil { // so that no other instance sends them
		q.log.Warn(q.cfg.Name+": wipe not recorded in the outbox", "error", err)
		return err
	}
	return nil
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

// noteWipe notes, under q.mu, that the chat with this tag was wiped at at; MaxInt64 while the
// wipe is being recorded.
func (q *Queue) noteWipe(tag string, at int64) {
	if w, ok := q.wipes[tag]; !ok || at > w.at || time.Since(w.noted) > wipeMemory {
		q.wipes[tag] = wipe{at: at, noted: time.Now()}
	} else {
		q.wipes[tag] = wipe{at: w.at, noted: time.Now()}
	}
}

// wipedBefore says, under q.mu, whether o was put before a recent wipe of its chat.
func (q *Queue) wipedBefore(o *item) bool {
	if q.cfg.Outbox == nil || o.box == "" || len(q.wipes) == 0 {
		return false
	}
	w, ok := q.wipes[q.cfg.Outbox.Tag(o.Chat)]
	return ok && time.Since(w.noted) <= wipeMemory && bot.Before(o.box, w.at)
}

// wiping notes, with the chat's queue dropped under q.mu, that chat is being wiped.
func (q *Queue) wiping(chat string) {
	if q.cfg.Outbox != nil {
		q.wipes[q.cfg.Outbox.Tag(chat)] = wipe{at: math.MaxInt64, noted: time.Now()}
	}
}

// wiped records in the outbox that chat was wiped. Should that fail, the wipe stays noted
// here as covering every message so far, but only for a few seconds: it would also refuse
// the replies of a conversation the person starts again.
func (q *Queue) wiped(ctx context.Context, chat string) error {
	if q.cfg.Outbox == nil {
		return nil
	}
	at, err := q.cfg.Outbox.Wipe(ctx, chat)
	q.mu.Lock()
	defer q.mu.Unlock()
	tag := q.cfg.Outbox.Tag(chat)
	if err != nil {
		q.wipes[tag] = wipe{at: math.MaxInt64, noted: time.Now().Add(5*time.Second - wipeMemory)}
		return err
	}
	q.wipes[tag] = wipe{at: at, noted: time.Now()}
	return nil
}

// dropWiped learns of the wipes since the last call (and a few seconds before, should Redis'
// clock have stepped back) and drops the queued messages put before them.
func (q *Queue) dropWiped(ctx context.Context) {
	wiped, cursor, err := q.cfg.Outbox.WipedSince(ctx, q.wipeCursor-(5*time.Second).Microseconds())
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn(q.cfg.Name+": outbox: wipes not read", "error", err)
		}
		return
	}
	q.wipeCursor = cursor
	var dropped []*item
	q.mu.Lock()
	for tag, w := range q.wipes {
		if time.Since(w.noted) > wipeMemory {
			delete(q.wipes, tag)
		}
	}
	for tag, at := range wiped {
		q.noteWipe(tag, at)
	}
	if len(wiped) > 0 {
		for chat := range q.q.chats {
			dropped = append(dropped, q.q.dropIf(chat, q.wipedBefore)...)
		}
	}
	q.m.depth.Set(float64(q.q.n))
	q.mu.Unlock()
	q.signal()
	for _, o := range dropped {
		q.giveUp(o, reasonWiped, q.errWiped)
	}
	q.settle(dropped...)
}

// tend forgets settled messages every settleEvery and learns of wipes; every third of a lease
// it renews the lease of the messages this instance holds, lets go of those another took over
// meanwhile, and takes over those whose instance let its lease lapse. It flushes once more
// when ctx is done, and returns.
func (q *Queue) tend(ctx context.Context) {
	defer q.flush()
	settle := time.NewTicker(settleEvery)
	defer settle.Stop()
	lease := time.NewTicker(q.cfg.Outbox.Lease / 3)
	defer lease.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-settle.C:
			q.flush()
			q.dropWiped(ctx)
			continue
		case <-lease.C:
		}
		q.flush()
		q.mu.Lock()
		mine, closed := q.q.boxes(), q.closed
		q.mu.Unlock()
		q.settledMu.Lock()
		mine = append(mine, q.settled...) // sent, not yet forgotten: still ours
		q.settledMu.Unlock()
		lost, err := q.cfg.Outbox.Renew(ctx, mine...)
		if err != nil && ctx.Err() == nil {
			q.log.Warn(q.cfg.Name+": outbox: lease not renewed", "error", err)
		}
		q.letGo(lost)
		if !closed {
			q.takeOver(ctx, mine)
		}
	}
}

// letGo drops the waiting messages another instance took over while this one's lease had
// lapsed: that one sends them. One in flight is sent by both.
func (q *Queue) letGo(lost []string) {
	if len(lost) == 0 {
		return
	}
	gone := make(map[string]bool, len(lost))
	for _, id := range lost {
		gone[id] = true
	}
	var dropped []*item
	q.mu.Lock()
	for chat, cq := range q.q.chats {
		inFlight := func(o *item) bool { return cq.busy && o == cq.items[0] }
		dropped = append(dropped, q.q.dropIf(chat, func(o *item) bool { return gone[o.box] && !inFlight(o) })...)
	}
	q.m.depth.Set(float64(q.q.n))
	q.mu.Unlock()
	q.signal()
	for _, o := range dropped {
		if o.result != nil {
			o.result <- nil // another instance sends it
		}
	}
	if len(dropped) > 0 {
		q.log.Info(q.cfg.Name+": outbox: messages taken over by another instance", "count", len(dropped))
	}
}

// takeOver queues the messages of instances that died. mine are the ids this instance holds
// already: a lease of its own that lapsed (Redis was away) must not send them twice.
func (q *Queue) takeOver(ctx context.Context, mine []string) {
	taken, err := q.cfg.Outbox.Take(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn(q.cfg.Name+": outbox: take over", "error", err)
		}
		return
	}
	held := make(map[string]bool, len(mine))
	for _, id := range mine {
		held[id] = true
	}
	// Checked and queued under one lock: a Wipe comes before or after both.
	var queued, wiped []*item
	q.mu.Lock()
	for _, p := range taken {
		if q.closed || held[p.ID] {
			continue // after Close: left in the outbox for another instance
		}
		m, err := q.s.Decode(p.Message)
		if err != nil {
			continue
		}
		m.Payload = p.Message
		o := &item{Message: m, box: p.ID}
		if q.wipedBefore(o) {
			wiped = append(wiped, o)
			continue
		}
		q.q.push(o)
		queued = append(queued, o)
	}
	q.m.depth.Set(float64(q.q.n))
	q.m.takenOver.Add(float64(len(queued))) // before they can be sent: whoever sees them sent sees them counted
	q.mu.Unlock()
	if len(queued) > 0 {
		q.log.Info(q.cfg.Name+": outbox: took over the messages of an instance that stopped", "count", len(queued))
	}
	q.signal()
	q.settle(wiped...)
}
