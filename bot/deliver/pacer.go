package deliver

import (
	"slices"
	"time"
)

// pacer decides which message goes next and when. It is given the time and never waits, so that
// its pacing is tested without a clock; Queue.deliver does the waiting and the sending.
//
// Rules: one send per perChat per chat and one per gap overall; a chat's messages go in order,
// one at a time; among the chats that may send, one with an urgent message waiting goes first,
// then the one served longest ago (a chat not served in the last servedMemory goes first: a
// person's first reply does not wait behind others' later messages), then the one whose next
// message is oldest.
type pacer struct {
	perChat time.Duration
	gap     time.Duration
	chats   map[string]*chatQueue
	served  map[string]time.Time // when each chat's last message was taken, for servedMemory
	takes   int                  // since served was last pruned
	next    time.Time            // no send overall before then
	seq     uint64
	n       int // messages waiting or in flight
}

type chatQueue struct {
	items  []*item   // items[0] is in flight while busy
	urgent int       // urgent messages among items
	next   time.Time // no send to this chat before then
	busy   bool
}

// servedMemory is how long a chat counts as served: a person walking the screening is served
// every few seconds, and must not go before someone who has had no answer yet.
const servedMemory = 10 * time.Minute

// item is one message in the queue.
type item struct {
	Message
	op     string       // names the caller in the error of a message given up: "send", "copy"...
	box    string       // its id in Config.Outbox; "" if not kept there
	wiped  bool         // in flight when Wipe ran: not to be tried again
	seq    uint64       // order of arrival
	tries  int          // failed attempts that count against Config.Retries
	result chan<- error // receives the outcome; nil when nobody waits for it
}

func newPacer(perChat, gap time.Duration) *pacer {
	return &pacer{perChat: perChat, gap: gap, chats: map[string]*chatQueue{}, served: map[string]time.Time{}}
}

func (q *pacer) push(o *item) {
	q.seq++
	o.seq = q.seq
	cq := q.chats[o.Chat]
	if cq == nil {
		cq = &chatQueue{}
		q.chats[o.Chat] = cq
	}
	cq.items = append(cq.items, o)
	if o.Urgent {
		cq.urgent++
	}
	q.n++
}

// take returns the message to send at now and holds its chat until done or retry. When none may
// go yet, it returns how long to wait; zero means until the queue changes.
func (q *pacer) take(now time.Time) (*item, time.Duration) {
	var best *chatQueue
	var bestID string
	var wait time.Duration
	for id, cq := range q.chats {
		switch {
		case cq.busy:
		case len(cq.items) == 0:
			if !now.Before(cq.next) {
				delete(q.chats, id) // kept until now to pace the chat's next message
			}
		case now.Before(cq.next):
			if d := cq.next.Sub(now); wait == 0 || d < wait {
				wait = d
			}
		case best == nil || goesBefore(cq, best, q.served[id], q.served[bestID]):
			best, bestID = cq, id
		}
	}
	if best == nil {
		return nil, wait
	}
	if now.Before(q.next) {
		return nil, q.next.Sub(now)
	}
	best.busy = true
	q.served[bestID] = now
	q.forgetServed(now)
	best.next = now.Add(q.perChat)
	q.next = now.Add(q.gap)
	return best.items[0], 0
}

// forgetServed forgets, every thousand sends, the chats served more than servedMemory ago.
func (q *pacer) forgetServed(now time.Time) {
	if q.takes++; q.takes < 1000 {
		return
	}
	q.takes = 0
	for id, at := range q.served {
		if now.Sub(at) > servedMemory {
			delete(q.served, id)
		}
	}
}

// goesBefore says whether chat a sends before chat b. A chat with an urgent message waiting
// goes first even if that message is not its next one: its messages stay in order, and the
// urgent one is not held up by other chats. Then each chat in turn, the one served longest
// ago first: under a spike, every person's first reply goes before anyone's second, and a
// chat with many messages waiting cannot hold the others up.
// aServed and bServed are when each was last served (zero: not in servedMemory).
func goesBefore(a, b *chatQueue, aServed, bServed time.Time) bool {
	if (a.urgent > 0) != (b.urgent > 0) {
		return a.urgent > 0
	}
	if !aServed.Equal(bServed) {
		return aServed.Before(bServed)
	}
	return a.items[0].seq < b.items[0].seq
}

// done removes the message taken last from its chat: it was sent or given up.
func (q *pacer) done(o *item) {
	cq := q.chats[o.Chat]
	cq.items = cq.items[1:]
	if o.Urgent {
		cq.urgent--
	}
	cq.busy = false
	q.n--
}

// retry puts the message taken last back at the head of its chat, not to go before at.
func (q *pacer) retry(o *item, at time.Time) {
	cq := q.chats[o.Chat]
	cq.busy = false
	if at.After(cq.next) {
		cq.next = at
	}
}

// boxes returns the outbox ids of the messages waiting or in flight.
func (q *pacer) boxes() []string {
	var ids []string
	for _, cq := range q.chats {
		for _, o := range cq.items {
			if o.box != "" {
				ids = append(ids, o.box)
			}
		}
	}
	return ids
}

// drain empties the queue but for the messages in flight, and returns what it removed.
func (q *pacer) drain() []*item {
	var left []*item
	for _, cq := range q.chats {
		left = append(left, q.cut(cq)...)
	}
	return left
}

// drop removes the chat's messages but the one in flight, which it marks not to be tried again,
// and returns what it removed.
func (q *pacer) drop(chat string) []*item {
	return q.dropIf(chat, func(*item) bool { return true })
}

// dropIf is drop for the chat's messages that match.
func (q *pacer) dropIf(chat string, match func(*item) bool) []*item {
	cq := q.chats[chat]
	if cq == nil {
		return nil
	}
	start := 0
	if cq.busy {
		start = 1
		cq.items[0].wiped = cq.items[0].wiped || match(cq.items[0])
	}
	kept := slices.Clone(cq.items[:start]) // a new array: what is removed stays as it is
	var removed []*item
	for _, o := range cq.items[start:] {
		if !match(o) {
			kept = append(kept, o)
			continue
		}
		removed = append(removed, o)
		if o.Urgent {
			cq.urgent--
		}
	}
	cq.items = kept
	q.n -= len(removed)
	return removed
}

// cut removes the chat's messages but the one in flight and returns them.
func (q *pacer) cut(cq *chatQueue) []*item {
	keep := 0
	if cq.busy {
		keep = 1
	}
	left := slices.Clone(cq.items[keep:]) // a copy: the chat's next pushes reuse the array
	cq.items = cq.items[:keep]
	cq.urgent = 0
	if keep == 1 && cq.items[0].Urgent {
		cq.urgent = 1
	}
	q.n -= len(left)
	return left
}
