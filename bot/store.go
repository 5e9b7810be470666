package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys of one conversation share the hash tag {p:PSEUDONYM}, so that the scripts below work
// on Redis Cluster. None holds a raw id, a name or message text; every one has a TTL.
//
//	PREFIX:{p:P}:session   the conversation's state (JSON)             TTL: the idle time (a case's life in a case)
//	PREFIX:{p:P}:lock      held while one message is handled           TTL: lockTTL
//	PREFIX:{p:P}:seen      sorted set: hashes of handled message ids   TTL: seenTTL
//	PREFIX:{p:P}:rate      hash: the token buckets (buttons, text, help, duress), the last notice  TTL: rateTTL
//	PREFIX:{p:P}:msgs      sorted set: the chat's message ids, for a wipe  TTL: 48 hours
//	PREFIX:{p:P}:reply     the last message's id hash and its replies, sealed, for a redelivery  TTL: replayTTL
//	PREFIX:{p:P}:inbox     list: replies waiting for a web chat page (see Inbox)             TTL: see Inbox
//	PREFIX:{p:P}:online    a web chat page has an event stream open (see Inbox)               TTL: see Inbox

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
	limits   Limits
}

// msgsTTL is how long a chat's message ids are kept: Telegram lets a bot delete messages only
// while they are younger than 48 hours.
const msgsTTL = 48 * time.Hour

// replayTTL is how long the replies to a conversation's last message are kept for a
// redelivery (Message.Replay): a process that died after handling a message but before its
// answer left leaves them to the client's retry, which comes within seconds.
const replayTTL = 5 * time.Minute

func (s *store) key(p, kind string) string { return conversationKey(s.prefix, p, kind) }

// conversationKey is the key of kind of conversation p: all of a conversation's keys share
// the hash tag {p:P}.
func conversationKey(prefix, p, kind string) string { return prefix + ":{p:" + p + "}:" + kind }

// derive is a key for label, derived from the service's secret: each use of the secret
// (pseudonyms, sealing) gets its own.
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// keys are the keys of a conversation, in the order the scripts take them.
func (s *store) keys(p string) []string {
	return []string{s.key(p, "seen"), s.key(p, "lock"), s.key(p, "session"), s.key(p, "rate"), s.key(p, "msgs"), s.key(p, "reply"), s.key(p, "inbox"), s.key(p, "online")}
}

func hashID(msgID string) string {
	if msgID == "" {
		return ""
	}
	h := sha256.Sum256([]byte(msgID))
	return base64.RawURLEncoding.EncodeToString(h[:9]) // 12 characters: the seen set stays small
}

// errBusy means another process held the conversation longer than lockWait.
var errBusy = errors.New("bot: conversation busy")

// begin: a message seen before is a duplicate, returned with the replies kept for it if it
// was the conversation's last message; otherwise take the lock, remember the chat's message
// id, read the session and take a token from the bucket of the message's class, in one
// round trip. The message is marked seen only by commit: if this process dies before, a
// redelivery is handled (once the dead holder's lock expires), not dropped as a duplicate.
//
// A bucket holds at most burst tokens and gains rate tokens a millisecond; its fields are the
// class ("tap", "text", "help": tokens) and the class and "@" (when they were counted, ms). A
// message finding its bucket empty takes nothing and is answered "over", or "quiet" while the
// last notice (the field "quiet", ms) is under renotice old. Whether the message is dropped is
// for the caller, which knows whether a counsellor waits for it. A message of class "" takes
// no token.
var beginScript = redis.NewScript(`
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local last = redis.call('GET', KEYS[6])
  if last and string.sub(last, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then return {'dup', string.sub(last, #ARGV[1] + 2)} end
  return {'dup'}
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'busy'} end
if ARGV[6] ~= '' then
  local now = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[5], now, ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - ARGV[7])
  redis.call('EXPIRE', KEYS[5], ARGV[7])
end
local verdict = 'ok'
local burst = tonumber(ARGV[11])
if burst > 0 then
  local ms, stamp = tonumber(ARGV[9]), ARGV[8] .. '@'
  local f = redis.call('HMGET', KEYS[4], ARGV[8], stamp, 'quiet')
  local at = tonumber(f[2]) or ms
  local tokens = math.min(burst, (tonumber(f[1]) or burst) + math.max(0, ms - at) * tonumber(ARGV[10]))
  if tokens >= 1 then
    redis.call('HSET', KEYS[4], ARGV[8], tokens - 1, stamp, ms)
    redis.call('EXPIRE', KEYS[4], ARGV[12])
  elseif f[3] and ms - tonumber(f[3]) < tonumber(ARGV[13]) then
    verdict = 'quiet'
  else
    verdict = 'over'
  end
end
local s = redis.call('GET', KEYS[3])
if s then return {verdict, s} end
return {verdict}
`)

// commit saves (or, with an empty value, deletes) the session, marks the message seen, keeps
// its replies for a redelivery (not those of a conversation that ended: they would outlive
// it, as would its inbox) and releases the lock, if this handler still holds it. A wipe
// deletes every key of the conversation and returns the chat's message ids younger than 48
// hours, for the channel to delete.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0} end
if ARGV[4] == 'wipe' then
  local ids = redis.call('ZRANGEBYSCORE', KEYS[5], ARGV[5] - ARGV[6], '+inf')
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  -- on a channel that deletes messages (KEYS[9], ARGV[7] and [8]): the wipe's time in ms,
  -- for the replies still on their way
  if KEYS[9] then redis.call('SET', KEYS[9], ARGV[7], 'PX', ARGV[8]) end
  return {1, ids}
end
if ARGV[2] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3]) end
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[7])
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -51)  -- the last 50 are plenty: redeliveries come soon
  redis.call('EXPIRE', KEYS[1], ARGV[8])
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[6], KEYS[7])
elseif ARGV[7] ~= '' and ARGV[9] ~= '' then
  redis.call('SET', KEYS[6], ARGV[7] .. ' ' .. ARGV[9], 'EX', ARGV[10])
end
redis.call('DEL', KEYS[2])
return {1}
`)

// begun is what begin found: the saved session (nil if none), the lock's token, and whether
// the message found its bucket empty (over), after the notice was given (quiet).
type begun struct {
	data        []byte
	token       string
	over, quiet bool
}

// begin locks conversation p for one message of class ("tap", "text", "help", "duress" or "") and returns
// its saved session. It waits while another process holds the lock. chatMsgID, the channel's
// id of the person's message, is remembered for a wipe. For a duplicate, err is ErrDuplicate
// and data holds the replies commit kept, if any. now is the clock of the buckets.
func (s *store) begin(ctx context.Context, p, msgID, chatMsgID, class string, now time.Time) (begun, error) {
	token := newToken()
	bucket := s.limits.bucket(class)
	deadline := time.Now().Add(s.lockWait)
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		res, err := beginScript.Run(ctx, s.rdb, s.keys(p), hashID(msgID), token, s.lockTTL.Milliseconds(),
			int(s.seenTTL.Seconds()), time.Now().Unix(), chatMsgID, int(msgsTTL.Seconds()),
			class, now.UnixMilli(), bucket.perMilli(), burstOf(bucket), int(rateTTL.Seconds()), renotice.Milliseconds()).Slice()
		if err != nil {
			return begun{}, fmt.Errorf("begin: %w", err)
		}
		var data []byte
		if len(res) > 1 {
			str, _ := res[1].(string)
			data = []byte(str)
		}
		switch res[0] {
		case "dup":
			return begun{data: data}, ErrDuplicate
		case "ok", "over", "quiet":
			return begun{data: data, token: token, over: res[0] != "ok", quiet: res[0] == "quiet"}, nil
		}
		if time.Now().After(deadline) {
			return begun{}, errBusy
		}
		select {
		case <-ctx.Done():
			return begun{}, ctx.Err()
		case <-time.After(wait/2 + mrand.N(wait/2+1)):
		}
	}
}

// releaseScript unlocks a conversation without saving anything of its message, if this
// handler still holds the lock (ARGV[1]). With ARGV[2] (ms) it notes when the person was told
// to slow down, so that the next messages over the limit pass in silence for a while; with
// ARGV[3] it gives back the token the message took from that bucket (at most ARGV[4]), for a
// message that will come again and must not pay twice.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'quiet', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
if ARGV[3] ~= '' then
  local t = tonumber(redis.call('HGET', KEYS[1], ARGV[3]))
  if t then redis.call('HSET', KEYS[1], ARGV[3], math.min(t + 1, tonumber(ARGV[4]))) end
end
return 1
`)

// release is what releaseScript does besides unlocking; the zero value only unlocks.
type release struct {
	noticed time.Time // the person was told to slow down then
	refund  string    // the class whose token the message took back
}

// release unlocks conversation p without handling its message: it stays unseen, so that a
// channel's redelivery is handled.
func (s *store) release(ctx context.Context, p, token string, r release) error {
	at := ""
	if !r.noticed.IsZero() {
		at = strconv.FormatInt(r.noticed.UnixMilli(), 10)
	}
	return releaseScript.Run(ctx, s.rdb, []string{s.key(p, "rate"), s.key(p, "lock")}, token, at,
		r.refund, burstOf(s.limits.bucket(r.refund)), int(rateTTL.Seconds())).Err()
}

// burstOf is the tokens a bucket holds at most; 0 for none, which the script skips.
func burstOf(b Bucket) int {
	if b.PerMinute <= 0 {
		return 0
	}
	return b.burst()
}

// commit saves data as the session for ttl (nil deletes it), marks message msgID seen,
// keeps replies (sealed; nil: none) for a redelivery and unlocks.
func (s *store) commit(ctx context.Context, p, token string, data []byte, ttl time.Duration, msgID string, replies []byte) error {
	res, err := commitScript.Run(ctx, s.rdb, s.keys(p), token, string(data), int(ttl.Seconds()), "",
		time.Now().Unix(), 0, hashID(msgID), int(s.seenTTL.Seconds()), string(replies), int(replayTTL.Seconds())).Slice()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if n, _ := res[0].(int64); n == 0 {
		return errors.New("commit: the lock expired before the message was handled")
	}
	return nil
}

// wipe deletes every key of conversation p and returns the chat's message ids younger than
// 48 hours. With mark (a channel that deletes the chat's messages) it keeps the wipe's time
// for wipedTTL, for the replies that were on their way (remember).
func (s *store) wipe(ctx context.Context, p, token string, mark bool) ([]string, error) {
	now := time.Now()
	keys := s.keys(p)
	if mark {
		keys = append(keys, s.key(p, "wiped"))
	}
	res, err := commitScript.Run(ctx, s.rdb, keys, token, "", 0, "wipe", now.Unix(), int(msgsTTL.Seconds()),
		now.UnixMilli(), wipedTTL.Milliseconds()).Slice()
	if err != nil {
		return nil, fmt.Errorf("wipe: %w", err)
	}
	if n, _ := res[0].(int64); n == 0 {
		return nil, errors.New("wipe: the lock expired before the message was handled")
	}
	var ids []string
	if len(res) > 1 {
		list, _ := res[1].([]any)
		for _, id := range list {
			if str, ok := id.(string); ok {
				ids = append(ids, str)
			}
		}
	}
	return ids, nil
}

// rememberScript records message ids of a conversation that still exists: a message that was
// on its way while the conversation was wiped must not bring a key back. It returns 2 for
// such a message (queued, ARGV[3], before the wipe's time in KEYS[5]): it is to be deleted.
var rememberScript = redis.NewScript(`
local wiped = redis.call('GET', KEYS[5])
if wiped and tonumber(ARGV[3]) > 0 and tonumber(ARGV[3]) <= tonumber(wiped) then return 2 end
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) == 0 then return 0 end
for i = 4, #ARGV do redis.call('ZADD', KEYS[4], ARGV[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 1
`)

// wipedTTL is how long a wipe's time is kept: longer than a message can be on its way (a
// send's timeout), so that one that arrives after the wipe is deleted too.
const wipedTTL = 2 * time.Minute

// remember records message ids the channel gave the bot's messages in conversation p, queued
// at queued (zero: unknown). It reports stale when the conversation was wiped after they were
// queued: the wipe missed them, and they are to be deleted now.
func (s *store) remember(ctx context.Context, p string, msgIDs []string, queued time.Time) (stale bool, err error) {
	if len(msgIDs) == 0 {
		return false, nil
	}
	var q int64
	if !queued.IsZero() {
		q = queued.UnixMilli()
	}
	args := []any{time.Now().Unix(), int(msgsTTL.Seconds()), q}
	for _, id := range msgIDs {
		args = append(args, id)
	}
	keys := []string{s.key(p, "session"), s.key(p, "rate"), s.key(p, "msgs"), s.key(p, "msgs"), s.key(p, "wiped")}
	n, err := rememberScript.Run(ctx, s.rdb, keys, args...).Int()
	return n == 2, err
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
