package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys of one conversation share the hash tag {p:PSEUDONYM}, so that the scripts below work
// on Redis Cluster. None holds a raw id, a name or message text; every one has a TTL.
//
//	PREFIX:{p:P}:session   the conversation's state (JSON); TTL: the idle time
//	PREFIX:{p:P}:lock      held while one message is handled; TTL: lockTTL
//	PREFIX:{p:P}:seen:H    H = hash of a handled message id, for deduplication; TTL: seenTTL

// pseudonym turns a channel's conversation id into the id Faros keeps: an HMAC, truncated.
func pseudonym(key []byte, channel, chatID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(channel + ":" + chatID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
}

// store keeps sessions in Redis: two round trips per message (begin, commit).
type store struct {
	rdb      redis.UniversalClient
	prefix   string
	idle     time.Duration // session TTL, renewed by every message
	lockTTL  time.Duration // a crashed holder's lock frees itself after this
	lockWait time.Duration // how long a message waits for its conversation's lock
	seenTTL  time.Duration // how long a handled message id is remembered
}

func (s *store) key(p, kind string) string { return s.prefix + ":{p:" + p + "}:" + kind }

func (s *store) seenKey(p, msgID string) string {
	h := sha256.Sum256([]byte(msgID))
	return s.key(p, "seen:"+hex.EncodeToString(h[:9]))
}

// errBusy means another process held the conversation longer than lockWait.
var errBusy = errors.New("bot: conversation busy")

// begin: a message seen before is a duplicate; otherwise take the lock, mark the message
// seen and read the session, in one round trip.
var beginScript = redis.NewScript(`
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return {'dup'} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'busy'} end
if ARGV[1] == '1' then redis.call('SET', KEYS[1], '1', 'EX', ARGV[4]) end
local s = redis.call('GET', KEYS[3])
if s then return {'ok', s} end
return {'ok'}
`)

// commit saves (or, with an empty value, deletes) the session and releases the lock, if this
// handler still holds it.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
redis.call('DEL', KEYS[2])
return 1
`)

// begin locks conversation p for one message and returns its saved session (nil if none)
// and the lock's token. It waits while another process holds the lock.
func (s *store) begin(ctx context.Context, p, msgID string) (data []byte, token string, err error) {
	token = newToken()
	keys := []string{s.key(p, "seen:-"), s.key(p, "lock"), s.key(p, "session")}
	dedupe := "0"
	if msgID != "" {
		keys[0], dedupe = s.seenKey(p, msgID), "1"
	}
	deadline := time.Now().Add(s.lockWait)
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		res, err := beginScript.Run(ctx, s.rdb, keys, dedupe, token, s.lockTTL.Milliseconds(), int(s.seenTTL.Seconds())).Slice()
		if err != nil {
			return nil, "", fmt.Errorf("begin: %w", err)
		}
		switch res[0] {
		case "dup":
			return nil, "", ErrDuplicate
		case "ok":
			if len(res) > 1 {
				str, _ := res[1].(string)
				return []byte(str), token, nil
			}
			return nil, token, nil
		}
		if time.Now().After(deadline) {
			return nil, "", errBusy
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(wait/2 + mrand.N(wait/2+1)):
		}
	}
}

// commit saves data as the session for ttl (nil deletes it) and unlocks.
func (s *store) commit(ctx context.Context, p, token string, data []byte, ttl time.Duration) error {
	keys := []string{s.key(p, "session"), s.key(p, "lock")}
	held, err := commitScript.Run(ctx, s.rdb, keys, token, string(data), int(ttl.Seconds())).Int()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if held == 0 {
		return errors.New("commit: the lock expired before the message was handled")
	}
	return nil
}

// abort unlocks without saving and forgets that the message was seen, so that a channel's
// redelivery is handled.
func (s *store) abort(ctx context.Context, p, token, msgID string) {
	keys := []string{s.key(p, "session"), s.key(p, "lock")}
	if msgID != "" {
		s.rdb.Del(ctx, s.seenKey(p, msgID))
	}
	s.rdb.Eval(ctx, `if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end return 1`, keys, token)
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
