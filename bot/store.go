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
//	PREFIX:{p:P}:conv    hash: the conversation (fields below)                     TTL: the idle time (a case's life in a case)
//	PREFIX:{p:P}:msgs    sorted set: the chat's message ids, for a wipe            TTL: 48 hours
//	PREFIX:{p:P}:reply   the last message's id hash and its replies, sealed, for a redelivery  TTL: replayTTL
//	PREFIX:{p:P}:inbox   list: replies waiting for a web chat page (see Inbox)     TTL: see Inbox
//	PREFIX:{p:P}:online  a web chat page has an event stream open (see Inbox)      TTL: see Inbox
//
// The fields of conv: s, the state (JSON; gone when the conversation ended); v, its version,
// raised by every save and by taking the lock; l, the lock ("TOKEN DEADLINE-MS"; "" when free);
// d, the hashes of the last handled message ids; e, when the TTL set last ends (unix s); the
// token buckets ("tap", "tap@": tokens and when they were counted, ms) and "quiet", when the
// person was last told to slow down (ms).
//
// A message is handled in two round trips: begin reads the conversation, commit saves it if
// its version has not moved. Most messages only answer, and need no lock: when two instances
// step the same conversation at once, the second save finds the version moved and its
// message is stepped again. A message that does more (a case opened, relayed to or left, an
// end) takes the lock first, which moves the version, so that no other save lands while it
// does it. Statistics are counted after the save, so a step done again counts once.

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
	limits   Limits
}

// seenMax is how many handled message ids a conversation remembers: redeliveries come soon.
const seenMax = 10

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
	return []string{s.key(p, "conv"), s.key(p, "reply"), s.key(p, "msgs"), s.key(p, "inbox"), s.key(p, "online")}
}

func hashID(msgID string) string {
	if msgID == "" {
		return ""
	}
	h := sha256.Sum256([]byte(msgID))
	return base64.RawURLEncoding.EncodeToString(h[:6]) // 8 characters: the list of handled ids stays small
}

// errBusy means another process held the conversation longer than lockWait.
var errBusy = errors.New("bot: conversation busy")

// errMoved means the conversation was saved by another message since begin read it: the
// message is to be stepped again from a new begin.
var errMoved = errors.New("bot: the conversation moved on meanwhile")

// luaLocked reads the lock field l in a script: held while its deadline (ms) is after now.
const luaLocked = `
local function locked(l, now)
  if not l or l == '' then return false end
  return tonumber(string.match(l, ' (%d+)$') or '0') > now
end
`

// begin reads a conversation and writes nothing: a message seen before is a duplicate,
// returned with the replies kept for it if it was the conversation's last message; a
// conversation whose lock is held is busy; otherwise it returns the session, its version and
// what this message's class leaves in its token bucket, which commit writes. ARGV[2] is the
// buckets' clock, ARGV[7] the lock's (ms).
//
// A bucket holds at most burst tokens and gains rate tokens a millisecond; its fields are the
// class ("tap", "text", "help": tokens) and the class and "@" (when they were counted, ms). A
// message finding its bucket empty takes nothing and is answered "over", or "quiet" while the
// last notice (the field "quiet", ms) is under renotice old. Whether the message is dropped is
// for the caller, which knows whether a counsellor waits for it. A message of class "" takes
// no token.
var beginScript = redis.NewScript(luaLocked + `
local f = redis.call('HMGET', KEYS[1], 's', 'v', 'l', 'd', ARGV[3], ARGV[3] .. '@', 'quiet')
if ARGV[1] ~= '' and f[4] and string.find(' ' .. f[4] .. ' ', ' ' .. ARGV[1] .. ' ', 1, true) then
  local last = redis.call('GET', KEYS[2])
  if last and string.sub(last, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then return {'dup', string.sub(last, #ARGV[1] + 2)} end
  return {'dup'}
end
if locked(f[3], tonumber(ARGV[7])) then return {'busy'} end
local now = tonumber(ARGV[2])
local verdict, left = 'ok', ''
local burst = tonumber(ARGV[5])
if burst > 0 then
  local at = tonumber(f[6]) or now
  local tokens = math.min(burst, (tonumber(f[5]) or burst) + math.max(0, now - at) * tonumber(ARGV[4]))
  if tokens >= 1 then
    left = tostring(tokens - 1)
  elseif f[7] and now - tonumber(f[7]) < tonumber(ARGV[6]) then
    verdict = 'quiet'
  else
    verdict = 'over'
  end
end
return {verdict, f[2] or '0', left, f[1]}
`)

// begun is what begin found: the saved session (nil if none) and its version, what the
// message leaves in its bucket, whether the message found its bucket empty (over), after
// the notice was given (quiet); and the lock's token once the message took it (lock).
type begun struct {
	data               []byte
	version            string
	class, left, stamp string // the bucket: its class, tokens left and when they were counted (ms)
	over, quiet        bool
	token              string
}

// begin reads conversation p for one message of class ("tap", "text", "help", "duress" or
// ""). It waits while another process holds the conversation's lock. For a duplicate, err is
// ErrDuplicate and data holds the replies commit kept, if any. now is the clock of the
// buckets.
func (s *store) begin(ctx context.Context, p, msgID, class string, now time.Time) (begun, error) {
	bucket := s.limits.bucket(class)
	stamp := strconv.FormatInt(now.UnixMilli(), 10)
	deadline := time.Now().Add(s.lockWait)
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		res, err := beginScript.Run(ctx, s.rdb, s.keys(p)[:2], hashID(msgID), stamp, class,
			bucket.perMilli(), burstOf(bucket), renotice.Milliseconds(), time.Now().UnixMilli()).Slice()
		if err != nil {
			return begun{}, fmt.Errorf("begin: %w", err)
		}
		str := func(i int) string {
			if i >= len(res) {
				return ""
			}
			v, _ := res[i].(string)
			return v
		}
		switch res[0] {
		case "dup":
			var data []byte
			if len(res) > 1 {
				data = []byte(str(1))
			}
			return begun{data: data}, ErrDuplicate
		case "ok", "over", "quiet":
			bg := begun{version: str(1), class: class, left: str(2), stamp: stamp, over: res[0] != "ok", quiet: res[0] == "quiet"}
			if len(res) > 3 && res[3] != nil {
				bg.data = []byte(str(3))
			}
			return bg, nil
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

// lockScript takes the lock of a conversation still at version ARGV[1] for token ARGV[2]
// until ARGV[3] (ms), and moves its version. A conversation new with this message is kept
// for ARGV[4] ms, until its save sets its TTL.
var lockScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if (v or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[2] .. ' ' .. ARGV[3], 'v', (tonumber(v) or 0) + 1)
if not v then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
`)

// lock takes the conversation's lock for a message whose handling does more than answer. It
// returns errMoved when another message saved the conversation since begin: the message is to
// be stepped again.
func (s *store) lock(ctx context.Context, p string, bg *begun) error {
	token := newToken()
	ok, err := lockScript.Run(ctx, s.rdb, s.keys(p)[:1], bg.version, token, time.Now().Add(s.lockTTL).UnixMilli(),
		s.lockTTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if ok == 0 {
		return errMoved
	}
	v, _ := strconv.Atoi(bg.version)
	bg.token, bg.version = token, strconv.Itoa(v+1)
	return nil
}

// commitScript saves a conversation still at version ARGV[1]: the session ARGV[2] ("": the
// conversation ended) for ARGV[3] s, the message's id hash ARGV[4] among the last ARGV[5],
// the bucket's fields ARGV[10], [11] and [14] (class, tokens, when), the lock freed (ARGV[9] set); with ARGV[6], the
// replies kept for a redelivery, for ARGV[7] s (not those of a conversation that ended: they
// would outlive it, as would its inbox); with ARGV[12], the chat's message id, for a wipe
// (ids kept ARGV[13] s).
// ARGV[8] is now (ms). It sets the TTL only when it would end over a sixty-fourth of it
// earlier or later than the one set: a conversation is never kept longer than its TTL, and
// most saves spare the command. It returns 0 if the version moved.
var commitScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'v', 'd', 'e')
if (f[1] or '0') ~= ARGV[1] then return 0 end
local now, ttl = tonumber(ARGV[8]), tonumber(ARGV[3])
local set = {'v', (tonumber(f[1]) or 0) + 1}
if ARGV[4] ~= '' then
  local seen = {}
  for h in string.gmatch(f[2] or '', '%S+') do table.insert(seen, h) end
  table.insert(seen, ARGV[4])
  while #seen > tonumber(ARGV[5]) do table.remove(seen, 1) end
  table.insert(set, 'd') table.insert(set, table.concat(seen, ' '))
end
if ARGV[2] ~= '' then table.insert(set, 's') table.insert(set, ARGV[2]) end
if ARGV[9] ~= '' then table.insert(set, 'l') table.insert(set, '') end
if ARGV[11] ~= '' then
  table.insert(set, ARGV[10]) table.insert(set, ARGV[11])
  table.insert(set, ARGV[10] .. '@') table.insert(set, ARGV[14])
end
local ends, was = math.floor(now / 1000) + ttl, tonumber(f[3])
local renew = not was or ends < was or ends - was > ttl / 64
if renew then table.insert(set, 'e') table.insert(set, ends) end
redis.call('HSET', KEYS[1], unpack(set))
if renew then redis.call('EXPIRE', KEYS[1], ttl) end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 's')
  redis.call('DEL', KEYS[2], KEYS[4])
elseif ARGV[6] ~= '' and ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4] .. ' ' .. ARGV[6], 'EX', ARGV[7])
end
if ARGV[12] ~= '' then
  redis.call('ZADD', KEYS[3], math.floor(now / 1000), ARGV[12])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', math.floor(now / 1000) - ARGV[13])
  redis.call('EXPIRE', KEYS[3], ARGV[13])
end
return 1
`)

// save is what commit writes: the session (nil: the conversation ended) and for how long,
// the message's ids and the replies kept for a redelivery (sealed; nil: none).
type save struct {
	data          []byte
	ttl           time.Duration
	msgID, chatID string // the delivery's id; the person's message's id in the chat
	replies       []byte
}

// commit saves conversation p as bg found it, if no other message saved it since, and frees
// its lock. It returns errMoved when one did: bg's message is to be stepped again.
func (s *store) commit(ctx context.Context, p string, bg begun, sv save) error {
	locked := ""
	if bg.token != "" {
		locked = "1"
	}
	res, err := commitScript.Run(ctx, s.rdb, s.keys(p), bg.version, string(sv.data), int(sv.ttl.Seconds()),
		hashID(sv.msgID), seenMax, string(sv.replies), int(replayTTL.Seconds()), time.Now().UnixMilli(), locked,
		bg.class, bg.left, sv.chatID, int(msgsTTL.Seconds()), bg.stamp).Int()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if res == 0 {
		return errMoved
	}
	return nil
}

// unlockScript frees the lock if token ARGV[1] holds it. With ARGV[2] (ms) it notes when
// the person was told to slow down, so that the next messages over the limit pass in silence
// for a while: only in a conversation that exists, which keeps its TTL. With ARGV[3], the
// person's message's id in the chat, it remembers it for a wipe (for ARGV[4] s).
var unlockScript = redis.NewScript(`
local l = redis.call('HGET', KEYS[1], 'l')
if ARGV[1] ~= '' and l and string.sub(l, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then redis.call('HSET', KEYS[1], 'l', '') end
if ARGV[2] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'quiet', ARGV[2]) end
if ARGV[3] ~= '' then
  local now = redis.call('TIME')[1]
  redis.call('ZADD', KEYS[2], now, ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return 1
`)

// unlock frees a lock bg's message took, without saving anything of the message: it stays
// unseen, so that a channel's redelivery is handled. With noticed, it notes when the person
// was told to slow down. The person's message chatMsgID is remembered for a wipe all the
// same: what they typed must go with it. A message that took no lock, notes nothing and has
// no id costs nothing.
func (s *store) unlock(ctx context.Context, p string, bg begun, noticed time.Time, chatMsgID string) error {
	at := ""
	if !noticed.IsZero() {
		at = strconv.FormatInt(noticed.UnixMilli(), 10)
	}
	if bg.token == "" && at == "" && chatMsgID == "" {
		return nil
	}
	keys := []string{s.key(p, "conv"), s.key(p, "msgs")}
	return unlockScript.Run(ctx, s.rdb, keys, bg.token, at, chatMsgID, int(msgsTTL.Seconds())).Err()
}

// burstOf is the tokens a bucket holds at most; 0 for none, which the script skips.
func burstOf(b Bucket) int {
	if b.PerMinute <= 0 {
		return 0
	}
	return b.burst()
}

// wipeConvScript deletes every key of a conversation still at version ARGV[1] and returns the
// chat's message ids younger than ARGV[2] s at ARGV[3] (s), and ARGV[6], the id of the
// message that wiped, if any. On a channel that deletes
// messages (KEYS[6], ARGV[4] and [5]) it keeps the wipe's time in ms, for the replies still
// on their way.
var wipeConvScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'v') or '0') ~= ARGV[1] then return {0} end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[3] - ARGV[2], '+inf')
if ARGV[6] ~= '' then table.insert(ids, ARGV[6]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if KEYS[6] then redis.call('SET', KEYS[6], ARGV[4], 'PX', ARGV[5]) end
return {1, ids}
`)

// wipe deletes every key of conversation p, which bg's message holds locked, and returns the
// chat's message ids younger than 48 hours, chatMsgID's (the message that wiped) among them. With mark (a channel that deletes the chat's
// messages) it keeps the wipe's time for wipedTTL, for the replies that were on their way
// (remember).
func (s *store) wipe(ctx context.Context, p string, bg begun, chatMsgID string, mark bool) ([]string, error) {
	now := time.Now()
	keys := s.keys(p)
	if mark {
		keys = append(keys, s.key(p, "wiped"))
	}
	res, err := wipeConvScript.Run(ctx, s.rdb, keys, bg.version, int(msgsTTL.Seconds()), now.Unix(),
		now.UnixMilli(), wipedTTL.Milliseconds(), chatMsgID).Slice()
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
// such a message (queued, ARGV[3], before the wipe's time in KEYS[3]): it is to be deleted.
var rememberScript = redis.NewScript(`
local wiped = redis.call('GET', KEYS[3])
if wiped and tonumber(ARGV[3]) > 0 and tonumber(ARGV[3]) <= tonumber(wiped) then return 2 end
if redis.call('EXISTS', KEYS[1], KEYS[2]) == 0 then return 0 end
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
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
	keys := []string{s.key(p, "conv"), s.key(p, "msgs"), s.key(p, "wiped")}
	n, err := rememberScript.Run(ctx, s.rdb, keys, args...).Int()
	return n == 2, err
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
