package bot

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/seal"
)

// Inbox keeps the replies that wait for a conversation's page: an operator's words to a person
// of the web chat whose page is not connected to the instance that has them (its event stream
// dropped and is reconnecting, or is held by another instance). The instance that holds the
// page's stream takes them, at once when it is told, or when the page connects again.
//
//	PREFIX:{p:P}:inbox   list: batches of replies (JSON), each sealed, oldest first
//	                     TTL: the session's remaining TTL at the last Put, at most inboxMaxAge
//
// The key shares the session's hash tag, so that Put's script sees the session on a Redis
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

// ErrGone is returned by (*Inbox).Put when the conversation no longer exists (it was wiped,
// ended or expired): nobody will ever take the replies.
var ErrGone = errors.New("bot: the conversation no longer exists")

const (
	// inboxMaxAge caps how long replies wait, however long the session lives: as long as a
	// case keeps its conversation (caseLife). An inbox expires with its session, since a page
	// whose conversation is gone never takes it; until then, a phone may have suspended the
	// page for hours and still come back to the operator's words.
	inboxMaxAge = 7 * 24 * time.Hour
	// inboxMaxLen bounds the batches that wait: an inbox nobody takes must not grow without
	// end. The oldest are dropped first.
	inboxMaxLen = 100
)

// NewInbox returns the inbox of channel's conversations. secret is the service's secret, the
// pseudonym key the Bot gets: the inbox finds a conversation's keys by the same pseudonym.
func NewInbox(rdb redis.UniversalClient, prefix, channel string, secret []byte) *Inbox {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("faros inbox v1"))
	return &Inbox{rdb: rdb, prefix: prefix, channel: channel, notices: prefix + ":inbox:" + channel,
		key: secret, aead: seal.AEAD(m.Sum(nil))}
}

// Tag is the name by which Listen reports conversation chatID: its pseudonym, which every key
// of the conversation holds already.
func (in *Inbox) Tag(chatID string) string { return pseudonym(in.key, in.channel, chatID) }

// keyOf is the key of kind of conversation p, as the store names it (store.key).
func (in *Inbox) keyOf(p, kind string) string { return in.prefix + ":{p:" + p + "}:" + kind }

// inboxPutScript appends the sealed batches ARGV[5]… to list KEYS[2] if session KEYS[1] exists,
// keeps the last ARGV[2] batches, makes the list expire with the session (at most ARGV[1]
// ms) and publishes tag ARGV[4] on channel ARGV[3]. It returns 0 if there is no session.
var inboxPutScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 or ttl == 0 then return 0 end
if ttl < 0 or ttl > tonumber(ARGV[1]) then ttl = tonumber(ARGV[1]) end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`)

// Put keeps replies for conversation chatID until Take, and tells the instances listening. It
// returns ErrGone if the conversation no longer exists: the replies were not kept.
func (in *Inbox) Put(ctx context.Context, chatID string, replies []Reply) error {
	if len(replies) == 0 {
		return nil
	}
	plain, err := json.Marshal(replies)
	if err != nil {
		return fmt.Errorf("inbox: put: %w", err)
	}
	p := in.Tag(chatID)
	keys := []string{in.keyOf(p, "session"), in.keyOf(p, "inbox")}
	ok, err := inboxPutScript.Run(ctx, in.rdb, keys, inboxMaxAge.Milliseconds(), inboxMaxLen, in.notices, p,
		seal.Seal(in.aead, plain, "inbox "+p)).Int()
	if err != nil {
		return fmt.Errorf("inbox: put: %w", err)
	}
	if ok == 0 {
		return ErrGone
	}
	return nil
}

// inboxTakeScript returns list KEYS[1] and deletes it.
var inboxTakeScript = redis.NewScript(`
local v = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return v
`)

// Take removes and returns the replies that wait for conversation chatID, in the order they
// were put; only one caller gets them. Batches sealed with another secret (from before a
// rotation) are dropped.
func (in *Inbox) Take(ctx context.Context, chatID string) ([]Reply, error) {
	p := in.Tag(chatID)
	boxes, err := inboxTakeScript.Run(ctx, in.rdb, []string{in.keyOf(p, "inbox")}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("inbox: take: %w", err)
	}
	var replies []Reply
	for _, box := range boxes {
		plain, err := seal.Open(in.aead, []byte(box), "inbox "+p)
		if err != nil {
			continue
		}
		var batch []Reply
		if json.Unmarshal(plain, &batch) == nil {
			replies = append(replies, batch...)
		}
	}
	return replies, nil
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
