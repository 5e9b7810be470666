package telegram

import (
	"slices"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// queue decides which message goes next and when. It is given the time and never waits, so that
// its pacing is tested without a clock; Channel.deliver does the waiting and the sending.
//
// Rules: one send per perChat per chat and one per gap overall; a chat's messages go in order,
// one at a time; among the chats that may send, one with an urgent message waiting goes first,
// then the one whose next message is oldest.
type queue struct {
	perChat time.Duration
	gap     time.Duration
	chats   map[string]*chatQueue
	next    time.Time // no send overall before then
	seq     uint64
	n       int // messages waiting or in flight
}

type chatQueue struct {
	items  []*outgoing // items[0] is in flight while busy
	urgent int         // urgent messages among items
	next   time.Time   // no send to this chat before then
	busy   bool
}

// outgoing is one Bot API call that sends a message: sendMessage, or copyMessage for Copy.
type outgoing struct {
	chat   string
	method string // "" means sendMessage
	params tgbotapi.Params
	urgent bool
	forget bool         // its id is not reported to Config.Sent
	tag    string       // the bot.Reply's Tag (or Copy's), reported to Config.Sent with the id
	box    string       // its id in Config.Outbox; "" if not kept there
	wiped  bool         // in flight when Wipe ran: not to be tried again
	seq    uint64       // order of arrival
	tries  int          // failed attempts that count against Config.Retries
	result chan<- error // receives the outcome; nil when nobody waits for it
}

// apiMethod returns the Bot API method that sends o.
func (o *outgoing) apiMethod() string {
	if o.method == "" {
		return "sendMessage"
	}
	return o.method
}

func newQueue(perChat, gap time.Duration) *queue {
	return &queue{perChat: perChat, gap: gap, chats: map[string]*chatQueue{}}
}

func (q *queue) push(o *outgoing) {
	q.seq++
	o.seq = q.seq
	cq := q.chats[o.chat]
	if cq == nil {
		cq = &chatQueue{}
		q.chats[o.chat] = cq
	}
	cq.items = append(cq.items, o)
	if o.urgent {
		cq.urgent++
	}
	q.n++
}

// take returns the message to send at now and holds its chat until done or retry. When none may
// go yet, it returns how long to wait; zero means until the queue changes.
func (q *queue) take(now time.Time) (*outgoing, time.Duration) {
	var best *chatQueue
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
		case best == nil || goesBefore(cq, best):
			best = cq
		}
	}
	if best == nil {
		return nil, wait
	}
	if now.Before(q.next) {
		return nil, q.next.Sub(now)
	}
	best.busy = true
	best.next = now.Add(q.perChat)
	q.next = now.Add(q.gap)
	return best.items[0], 0
}

// goesBefore says whether chat a sends before chat b. A chat with an urgent message waiting
// goes first even if that message is not its next one: its messages stay in order, and the
// urgent one is not held up by other chats.
func goesBefore(a, b *chatQueue) bool {
	if (a.urgent > 0) != (b.urgent > 0) {
		return a.urgent > 0
	}
	return a.items[0].seq < b.items[0].seq
}

// done removes the message taken last from its chat: it was sent or given up.
func (q *queue) done(o *outgoing) {
	cq := q.chats[o.chat]
	cq.items = cq.items[1:]
	if o.urgent {
		cq.urgent--
	}
	cq.busy = false
	q.n--
}

// retry puts the message taken last back at the head of its chat, not to go before at.
func (q *queue) retry(o *outgoing, at time.Time) {
	cq := q.chats[o.chat]
	cq.busy = false
	if at.After(cq.next) {
		cq.next = at
	}
}

// boxes returns the outbox ids of the messages waiting or in flight.
func (q *queue) boxes() []string {
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
func (q *queue) drain() []*outgoing {
	var left []*outgoing
	for _, cq := range q.chats {
		left = append(left, q.cut(cq)...)
	}
	return left
}

// drop removes the chat's messages but the one in flight, which it marks not to be tried again,
// and returns what it removed.
func (q *queue) drop(chat string) []*outgoing {
	return q.dropIf(chat, func(*outgoing) bool { return true })
}

// dropIf is drop for the chat's messages that match.
func (q *queue) dropIf(chat string, match func(*outgoing) bool) []*outgoing {
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
	var removed []*outgoing
	for _, o := range cq.items[start:] {
		if !match(o) {
			kept = append(kept, o)
			continue
		}
		removed = append(removed, o)
		if o.urgent {
			cq.urgent--
		}
	}
	cq.items = kept
	q.n -= len(removed)
	return removed
}

// cut removes the chat's messages but the one in flight and returns them.
func (q *queue) cut(cq *chatQueue) []*outgoing {
	keep := 0
	if cq.busy {
		keep = 1
	}
	left := slices.Clone(cq.items[keep:]) // a copy: the chat's next pushes reuse the array
	cq.items = cq.items[:keep]
	cq.urgent = 0
	if keep == 1 && cq.items[0].urgent {
		cq.urgent = 1
	}
	q.n -= len(left)
	return left
}
