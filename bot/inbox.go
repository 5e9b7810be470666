package bot

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/seal"
)

// Inbox keeps the replies that wait for a conversation's page: an operator's words to a person
// of the web chat. Every event stream of the page, on any instance, reads them from here, and
// they stay until the page acknowledges them (its next request names the last batch it
// showed) or expire: a batch written into a connection that died without a word (a phone that
// changed networks: the kernel took the bytes) comes again on the page's next stream.
//
//	PREFIX:{p:P}:inbox   list: batches of replies, oldest first, each "ID:" and the sealed
//	                     batch (JSON); ID orders them (see Put) and is all the page sends back
//	                     TTL: the session's remaining TTL at the last Put, at most inboxMaxAge
//	PREFIX:{p:P}:online  a random token of the instance that last saw a page of the
//	                     conversation with an event stream open
//	                     TTL: what the stream asks (two of its keep-alives), renewed at each
//	                     keep-alive; deleted when that instance's last stream of it closes
//
// The keys share the session's hash tag, so that the scripts see the session on a Redis
// Cluster. Put tells every instance through the pub/sub channel PREFIX:inbox:CHANNEL, with the
// conversation's pseudonym (Tag) as the payload, never its id. The replies hold an operator's
// words, so they are sealed with a key derived from the service's secret, bound to the
// conversation: a copy of Redis alone reads nothing, and no batch can be moved to another
// conversation's inbox.
type Inbox struct {
	rdb     redis.UniversalClient
	prefix  string
	channel string // the conversations' channel, part of their pseudonym
	notices string // the pub/sub channel
	key     []byte // the pseudonym key
	aead    cipher.AEAD
}

// Batch is the replies of one Put, with the id the inbox gave them.
type Batch struct {
	ID      string // decimal digits, larger than every earlier batch's of the conversation
	Replies []Reply
}

// ErrGone is returned by (*Inbox).Put and (*Inbox).Online when the conversation no longer
// exists (it was wiped, ended or expired): nobody will ever read the replies.
var ErrGone = errors.New("bot: the conversation no longer exists")

const (
	// inboxMaxAge caps how long replies wait, however long the session lives: as long as a
	// case keeps its conversation (caseLife). An inbox expires with its session, since a page
	// whose conversation is gone never reads it; until then, a phone may have suspended the
	// page for hours and still come back to the operator's words.
	inboxMaxAge = 7 * 24 * time.Hour
	// inboxMaxLen bounds the batches that wait: an inbox nobody acknowledges must not grow
	// without end. The oldest are dropped first.
	inboxMaxLen = 100
)

// NewInbox returns the inbox of channel's conversations. secret is the service's secret, the
// pseudonym key the Bot gets: the inbox finds a conversation's keys by the same pseudonym.
func NewInbox(rdb redis.UniversalClient, prefix, channel string, secret []byte) *Inbox {
	return &Inbox{rdb: rdb, prefix: prefix, channel: channel, notices: prefix + ":inbox:" + channel,
		key: secret, aead: seal.AEAD(derive(secret, "faros inbox v1"))}
}

// Tag is the name by which Listen reports conversation chatID: its pseudonym, which every key
// of the conversation holds already.
func (in *Inbox) Tag(chatID string) string { return pseudonym(in.key, in.channel, chatID) }

// keyOf is the key of kind of conversation p, as the store names it.
func (in *Inbox) keyOf(p, kind string) string { return conversationKey(in.prefix, p, kind) }

// inboxPutScript appends the sealed batch ARGV[5] to list KEYS[2] if conversation KEYS[1]
// has a session, keeps the last ARGV[2] batches, makes the list expire with the conversation
// (at most ARGV[1] ms) and publishes tag ARGV[4] on channel ARGV[3]. It returns 0 if there is no session, 1
// if the batch was kept and no page is online (KEYS[3]), 2 if one is.
//
// A batch's id is Redis' clock in microseconds, or the last batch's id + 1 if that is not
// smaller: ids grow while the list lives, and do not start again at an id the page has seen
// when it is emptied or expires (the page drops a batch whose id it showed before).
var inboxPutScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 's') == 0 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 or ttl == 0 then return 0 end
if ttl < 0 or ttl > tonumber(ARGV[1]) then ttl = tonumber(ARGV[1]) end
local now = redis.call('TIME')
local id = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = redis.call('LINDEX', KEYS[2], -1)
if last then
  local n = tonumber(string.match(last, '^(%d+):'))
  if n and n >= id then id = n + 1 end
end
redis.call('RPUSH', KEYS[2], string.format('%.0f', id) .. ':' .. ARGV[5])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1 + redis.call('EXISTS', KEYS[3])
`)

// Put keeps replies for conversation chatID until its page acknowledges them, tells the
// instances listening, and reports whether a page of the conversation is online (has an
// event stream open, on any instance). It returns ErrGone if the conversation no longer
// exists: the replies were not kept.
func (in *Inbox) Put(ctx context.Context, chatID string, replies []Reply) (online bool, err error) {
	if len(replies) == 0 {
		return false, nil
	}
	plain, err := json.Marshal(replies)
	if err != nil {
		return false, fmt.Errorf("inbox: put: %w", err)
	}
	p := in.Tag(chatID)
	keys := []string{in.keyOf(p, "conv"), in.keyOf(p, "inbox"), in.keyOf(p, "online")}
	n, err := inboxPutScript.Run(ctx, in.rdb, keys, inboxMaxAge.Milliseconds(), inboxMaxLen, in.notices, p,
		seal.Seal(in.aead, plain, "inbox "+p)).Int()
	if err != nil {
		return false, fmt.Errorf("inbox: put: %w", err)
	}
	if n == 0 {
		return false, ErrGone
	}
	return n == 2, nil
}

// Read returns the batches that wait for conversation chatID after batch after ("": all), in
// the order they were put; it deletes nothing. A batch after names is no longer there when
// it was acknowledged or dropped, with every batch before it: then every batch that waits
// comes after it. Batches sealed with another secret (from before a rotation) are skipped.
func (in *Inbox) Read(ctx context.Context, chatID, after string) ([]Batch, error) {
	p := in.Tag(chatID)
	entries, err := in.rdb.LRange(ctx, in.keyOf(p, "inbox"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("inbox: read: %w", err)
	}
	if after != "" {
		for i, e := range entries {
			if id, _, _ := strings.Cut(e, ":"); id == after {
				entries = entries[i+1:]
				break
			}
		}
	}
	var batches []Batch
	for _, e := range entries {
		id, box, ok := strings.Cut(e, ":")
		if !ok {
			continue
		}
		plain, err := seal.Open(in.aead, []byte(box), "inbox "+p)
		if err != nil {
			continue
		}
		var replies []Reply
		if json.Unmarshal(plain, &replies) == nil {
			batches = append(batches, Batch{ID: id, Replies: replies})
		}
	}
	return batches, nil
}

// inboxAckScript deletes from list KEYS[1] the batch whose id is ARGV[1] and every batch
// before it, if it is there.
var inboxAckScript = redis.NewScript(`
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
local prefix = ARGV[1] .. ':'
for i = #entries, 1, -1 do
  if string.sub(entries[i], 1, #prefix) == prefix then
    if i == #entries then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], i, -1) end
    return i
  end
end
return 0
`)

// Ack deletes the batches of conversation chatID up to and including batch id, which its
// page has shown. An id that is not there (acknowledged before, dropped, or made up) deletes
// nothing.
func (in *Inbox) Ack(ctx context.Context, chatID, id string) error {
	if id == "" {
		return nil
	}
	p := in.Tag(chatID)
	if err := inboxAckScript.Run(ctx, in.rdb, []string{in.keyOf(p, "inbox")}, id).Err(); err != nil {
		return fmt.Errorf("inbox: ack: %w", err)
	}
	return nil
}

// inboxOnlineScript sets KEYS[2] to ARGV[2] for ARGV[1] ms if conversation KEYS[1] has a
// session, and returns 0 if it does not.
var inboxOnlineScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 's') == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[1])
return 1
`)

// Online records that a page of conversation chatID has an event stream open, for ttl, on
// behalf of mark (a random token of the instance that holds the stream): the stream renews it
// while it lives. It returns ErrGone if the conversation no longer exists (it was wiped while
// the page was open): nothing is recorded.
func (in *Inbox) Online(ctx context.Context, chatID string, ttl time.Duration, mark string) error {
	p := in.Tag(chatID)
	keys := []string{in.keyOf(p, "conv"), in.keyOf(p, "online")}
	n, err := inboxOnlineScript.Run(ctx, in.rdb, keys, ttl.Milliseconds(), mark).Int()
	if err != nil {
		return fmt.Errorf("inbox: online: %w", err)
	}
	if n == 0 {
		return ErrGone
	}
	return nil
}

// Offline records that the last event stream of conversation chatID on the instance of mark
// closed. It takes away only that instance's mark: when the page reconnected to another
// instance, which marked it since, the page is online still.
func (in *Inbox) Offline(ctx context.Context, chatID, mark string) error {
	const script = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1`
	if err := in.rdb.Eval(ctx, script, []string{in.keyOf(in.Tag(chatID), "online")}, mark).Err(); err != nil {
		return fmt.Errorf("inbox: offline: %w", err)
	}
	return nil
}

// Listen calls notify with the Tag of each conversation whose inbox got replies, from any
// instance, until ctx ends. Notices sent while it was not subscribed (Redis was unreachable)
// are lost: after each subscription, the first and every one after a reconnection, it calls
// notify with "", and the caller looks at the inbox of every conversation it serves. It
// reconnects by itself and returns nil when ctx ends.
func (in *Inbox) Listen(ctx context.Context, notify func(tag string)) error {
	sub := in.rdb.Subscribe(ctx, in.notices)
	defer sub.Close()
	// The channel pings Redis when it is quiet and subscribes again after an error.
	ch := sub.ChannelWithSubscriptions()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return errors.New("inbox: listen: the subscription was closed")
			}
			switch msg := msg.(type) {
			case *redis.Subscription:
				if msg.Kind == "subscribe" {
					notify("")
				}
			case *redis.Message:
				notify(msg.Payload)
			}
		}
	}
}
