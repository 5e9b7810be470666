package desk

// Live updates: the handoff desk pokes (Hub.Poke) whenever an operator's board may have
// changed; the poke crosses instances on a Redis channel, and each instance passes it to the
// event streams of the browsers signed in there. A poke names an operator and a case, never
// anyone's words: the browser reads what changed through the API, with its session.

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Poke is one "read your board again": for operator Op ("" for everyone), about case Case
// (may be ""); Ring makes a sound, Urgent also a notification.
type Poke struct {
	Op     string `json:"op,omitempty"`
	Case   string `json:"case"`
	Ring   bool   `json:"ring"`
	Urgent bool   `json:"urgent"`
}

// Hub passes pokes from any instance to the event streams of this one.
type Hub struct {
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
	out     chan Poke // to publish; Poke never waits for Redis

	mu   sync.Mutex
	subs map[*stream]struct{}
}

// stream is one browser's event stream: the pokes for its operator.
type stream struct {
	op         string
	supervisor bool
	pokes      chan Poke
}

// NewHub returns a hub publishing on PREFIX:desk:pokes (a channel, not a key: Redis keeps
// nothing of it). Run it.
func NewHub(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{rdb: rdb, channel: prefix + ":desk:pokes", log: log, out: make(chan Poke, 1024), subs: map[*stream]struct{}{}}
}

// Poke publishes a poke, without waiting: it is handoff.Config.Poke. When Redis lags so far
// behind that 1,024 pokes wait, the newest are dropped; the browsers read their boards every
// 30 seconds anyway.
func (h *Hub) Poke(op, id string, ring, urgent bool) {
	select {
	case h.out <- Poke{Op: op, Case: id, Ring: ring, Urgent: urgent}:
	default:
		h.log.Warn("desk: a poke was dropped: Redis is slow", "case", id)
	}
}

// Run publishes pokes and passes those of every instance to this one's streams, until ctx
// ends; a lost subscription is taken up again.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { h.publish(ctx) })
	defer wg.Wait()
	for ctx.Err() == nil {
		h.listen(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// publish sends the pokes until ctx ends, then those still waiting (for a second at most):
// the service stops the hub last, so that the pokes of its last work reach the browsers.
func (h *Hub) publish(ctx context.Context) {
	send := func(ctx context.Context, p Poke) {
		data, _ := json.Marshal(p)
		if err := h.rdb.Publish(ctx, h.channel, data).Err(); err != nil && ctx.Err() == nil {
			h.log.Warn("desk: a poke was not published", "case", p.Case, "err", err)
		}
	}
	for {
		select {
		case p := <-h.out:
			send(ctx, p)
			continue
		case <-ctx.Done():
		}
		last, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		for {
			select {
			case p := <-h.out:
				send(last, p)
			default:
				return
			}
		}
	}
}

func (h *Hub) listen(ctx context.Context) {
	sub := h.rdb.Subscribe(ctx, h.channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() == nil {
			h.log.Warn("desk: cannot listen for pokes; trying again", "err", err)
		}
		return
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			var p Poke
			if json.Unmarshal([]byte(m.Payload), &p) == nil {
				h.deliver(p)
			}
		}
	}
}

// deliver passes p to the streams it concerns. A supervisor's stream gets every poke, but
// rings only for their own.
func (h *Hub) deliver(p Poke) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		q := p
		switch {
		case p.Op == "" || p.Op == s.op:
		case s.supervisor:
			q.Ring, q.Urgent = false, false
		default:
			continue
		}
		q.Op = ""
		select {
		case s.pokes <- q:
		default: // the stream is behind: it will read the board anyway
		}
	}
}

func (h *Hub) subscribe(op string, supervisor bool) *stream {
	s := &stream{op: op, supervisor: supervisor, pokes: make(chan Poke, 64)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *Hub) unsubscribe(s *stream) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}
