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
	"strings"
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
// a random token that every save and taking the lock replace (never a counter: a conversation
// wiped and begun again must not come back to a version read before the wipe); l, the lock
// ("TOKEN DEADLINE", the deadline in Redis' clock, ms; "" when free); w, when it was last
// wiped (µs; after a wipe, only w and v stay, for wipedTTL);
// d, the hashes of the last handled message ids; e, when the TTL set last ends (unix s); m,
// when msgs expires (unix s: Remember, and the save of a typed message, set its TTL again,
// dropping ids older than it keeps, only when that is near); the
// token buckets ("tap", "tap@": tokens and when they were counted, ms) and "quiet", when the
// person was last told to slow down (ms).
//
// A message is handled in two round trips: begin reads the conversation, commit saves it if
// its version has not moved. Most messages only answer, and need no lock: when two instances
// step the same conversation at once, the second save finds the version moved and its
// message is stepped again. A message that does more (a case opened, relayed to or left, an
// end) takes the lock first, which gives a new version, so that no other save lands while it
// does it. Statistics are counted after the save, so a step done again counts once.

// pseudonym turns a channel's conversation id into the id Faros keeps: an HMAC, truncated.
func pseudonym(key []byte, channel, chatID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(channel + ":" + chatID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
}

// store keeps sessions in Redis: two round trips per message (begin, commit), each shared
// with the other conversations' under load (pipe).
type store struct {
	rdb      redis.UniversalClient
	pipe     *pipe // begin's read, commit and remember
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

// msgsKeep is the TTL the message ids' key is given: a 64th longer than msgsTTL, so that
// Remember need not set it again with every id (it does once it would end sooner than msgsTTL
// from now), and every id is kept for msgsTTL at least.
const msgsKeep = msgsTTL + msgsTTL/64

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

// seenBefore reports whether hash is among the space-separated hashes of seen.
func seenBefore(seen, hash string) bool {
	for h := range strings.FieldsSeq(seen) {
		if h == hash {
			return true
		}
	}
	return false
}

// errBusy means another process held the conversation longer than lockWait.
var errBusy = errors.New("bot: conversation busy")

// errMoved means the conversation was saved by another message since begin read it: the
// message is to be stepped again from a new begin.
var errMoved = errors.New("bot: the conversation moved on meanwhile")

// begin reads a conversation with one HMGET and writes nothing: a message seen before is a
// duplicate, returned with the replies kept for it if it was the conversation's last message
// (a second read, rare); a conversation whose lock is held is busy; otherwise it returns the
// session, its version and what this message's class leaves in its token bucket, which
// commit writes. Reading needs no script: commit saves only if the version is still the one
// read, and with it everything else read.
//
// A bucket holds at most burst tokens and gains rate tokens a millisecond; its fields are the
// class ("tap", "text", "help": tokens) and the class and "@" (when they were counted, ms). A
// message finding its bucket empty takes nothing and is answered "over", or "quiet" while the
// last notice (the field "quiet", ms) is under renotice old. Whether the message is dropped is
// for the caller, which knows whether a counsellor waits for it. A message of class "" takes
// no token.

// begun is what begin found: the saved session (nil if none), its version, the delivery ids
// seen and when its TTL ends; what the message leaves in its bucket, whether it found the
// bucket empty (over), after the notice was given (quiet); and the lock's token once the
// message took it (lock).
type begun struct {
	data               []byte
	version            string // "" for a conversation Redis does not hold
	wiped              int64  // when the conversation was last wiped (µs); 0: not lately
	seen               string // the hashes of the last handled delivery ids, space-separated
	ends               int64  // when the TTL set last ends (unix s); 0: none known
	msgsEnds           int64  // when the message ids' key expires (conv's m, unix s); 0: none known
	class, left, stamp string // the bucket: its class, tokens left and when they were counted (ms)
	over, quiet        bool
	token              string
}

// begin reads conversation p for one message of class ("tap", "text", "help", "duress" or
// ""). It waits while another process holds the conversation's lock. For a duplicate, err is
// ErrDuplicate and data holds the replies commit kept, if any. now is the clock of the
// buckets.
func (s *store) begin(ctx context.Context, p, msgID, class string, now time.Time) (begun, error) {
	deadline := time.Now().Add(s.lockWait)
	hash := hashID(msgID)
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		cmd := redis.NewSliceCmd(ctx, "hmget", s.key(p, "conv"), "s", "v", "l", "d", "e", class, class+"@", "quiet", "w", "m")
		if err := s.pipe.do(ctx, cmd); err != nil {
			return begun{}, fmt.Errorf("begin: %w", err)
		}
		f := cmd.Val()
		if len(f) != 10 {
			return begun{}, fmt.Errorf("begin: %d fields; want 10", len(f))
		}
		str := func(i int) string { v, _ := f[i].(string); return v }
		if hash != "" && seenBefore(str(3), hash) {
			return begun{data: s.kept(ctx, p, hash)}, ErrDuplicate
		}
		if !locked(str(2), time.Now()) {
			bg := begun{version: str(1), seen: str(3), class: class}
			if f[0] != nil {
				bg.data = []byte(str(0))
			}
			bg.ends, _ = strconv.ParseInt(str(4), 10, 64)
			bg.wiped, _ = strconv.ParseInt(str(8), 10, 64)
			bg.msgsEnds, _ = strconv.ParseInt(str(9), 10, 64)
			s.take(&bg, str(5), str(6), str(7), now)
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

// locked reads the lock field l: held while its deadline (ms) is after now.
func locked(l string, now time.Time) bool {
	_, deadline, ok := strings.Cut(l, " ")
	ms, err := strconv.ParseInt(deadline, 10, 64)
	return ok && err == nil && ms > now.UnixMilli()
}

// take takes a token from bg's bucket, whose fields read tokens and at (ms), or finds it
// empty, as begin describes.
func (s *store) take(bg *begun, tokens, at, quiet string, now time.Time) {
	bucket := s.limits.bucket(bg.class)
	burst := burstOf(bucket)
	if burst == 0 {
		return
	}
	ms := now.UnixMilli()
	left, err := strconv.ParseFloat(tokens, 64)
	if err != nil {
		left = float64(burst)
	}
	since, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		since = ms
	}
	left = min(float64(burst), left+float64(max(0, ms-since))*bucket.perMilli())
	noticed, err := strconv.ParseInt(quiet, 10, 64)
	switch {
	case left >= 1:
		bg.left, bg.stamp = strconv.FormatFloat(left-1, 'g', 6, 64), strconv.FormatInt(ms, 10)
	case err == nil && ms-noticed < renotice.Milliseconds():
		bg.over, bg.quiet = true, true
	default:
		bg.over = true
	}
}

// kept returns the replies kept for the delivery whose id hashes to hash, if it was the
// conversation's last message and came again within replayTTL; nil otherwise.
func (s *store) kept(ctx context.Context, p, hash string) []byte {
	last, err := s.rdb.Get(ctx, s.key(p, "reply")).Result()
	if rest, ok := strings.CutPrefix(last, hash+" "); err == nil && ok {
		return []byte(rest)
	}
	return nil
}

// lockScript takes the lock of a conversation still at version ARGV[1] for token ARGV[2],
// for ARGV[3] ms of Redis' clock, and gives it version ARGV[4]. It refuses (0) when the
// version moved, or while another's lock holds by Redis' clock (a reader whose clock runs
// ahead may think it free). A conversation new with this message is kept for ARGV[3] ms,
// until its save sets its TTL.
var lockScript = redis.NewScript(luaHeld + `
local f = redis.call('HMGET', KEYS[1], 'v', 'l')
if (f[1] or '') ~= ARGV[1] or held(f[2], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[2] .. ' ' .. (redisMs() + ARGV[3]), 'v', ARGV[4])
if not f[1] then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`)

// luaHeld defines held(l, mine): whether lock field l is another's than token mine and its
// deadline is still ahead of Redis' clock (read only then); and redisMs(), Redis' clock.
const luaHeld = `
local function redisMs() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end
local function held(l, mine)
  if not l or l == '' or (mine ~= '' and string.sub(l, 1, #mine + 1) == mine .. ' ') then return false end
  return (tonumber(string.match(l, ' (%d+)$')) or 0) > redisMs()
end
`

// lock takes the conversation's lock for a message whose handling does more than answer. It
// returns errMoved when another message saved the conversation since begin: the message is to
// be stepped again.
func (s *store) lock(ctx context.Context, p string, bg *begun) error {
	token := newToken()
	version := newVersion()
	ok, err := lockScript.Run(ctx, s.rdb, s.keys(p)[:1], bg.version, token, s.lockTTL.Milliseconds(), version).Int()
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if ok == 0 {
		return errMoved
	}
	bg.token, bg.version = token, version
	return nil
}

// commitScript saves a conversation still at version ARGV[1] and not locked by another
// (else it returns 0; sent again after it saved, it finds its own new version and returns
// 1): the field and value pairs ARGV[5]… and version ARGV[4], in one HSET; the TTL, ARGV[3]
// s, unless that is "". ARGV[2] is "ended" (the session is deleted, and with it the replies kept and the
// inbox: they would outlive the conversation), or the delivery's hash, a space and its
// replies sealed, kept for a redelivery, or "". The last five are the kept replies' TTL (s),
// the person's message id in the chat for a wipe ("" for none), how long those ids are kept
// (s; "" while conv's m says their TTL need not be set again, which saves two commands), now
// (unix s) and the lock's token this message holds ("" for none).
var commitScript = redis.NewScript(luaHeld + `
local n = #ARGV - 5
local f = redis.call('HMGET', KEYS[1], 'v', 'l')
if f[1] == ARGV[4] then return 1 end
if (f[1] or '') ~= ARGV[1] or held(f[2], ARGV[n + 5]) then return 0 end
local set = {'v', ARGV[4]}
for i = 5, n do table.insert(set, ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(set))
if ARGV[3] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if ARGV[2] == 'ended' then
  redis.call('HDEL', KEYS[1], 's')
  redis.call('DEL', KEYS[2], KEYS[4])
elseif ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[n + 1])
end
if ARGV[n + 2] ~= '' then
  local now = tonumber(ARGV[n + 4])
  redis.call('ZADD', KEYS[3], now, ARGV[n + 2])
  if ARGV[n + 3] ~= '' then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ARGV[n + 3])
    redis.call('EXPIRE', KEYS[3], ARGV[n + 3])
  end
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
	now := time.Now()
	fields := []any{}
	if hash := hashID(sv.msgID); hash != "" {
		seen := append(strings.Fields(bg.seen), hash)
		fields = append(fields, "d", strings.Join(seen[max(0, len(seen)-seenMax):], " "))
	}
	if sv.data != nil {
		fields = append(fields, "s", string(sv.data))
	}
	if bg.token != "" {
		fields = append(fields, "l", "")
	}
	if bg.left != "" {
		fields = append(fields, bg.class, bg.left, bg.class+"@", bg.stamp)
	}
	ttl, ends := "", now.Unix()+int64(sv.ttl.Seconds())
	if bg.ends == 0 || ends < bg.ends || ends-bg.ends > int64(sv.ttl.Seconds())/64 {
		ttl = strconv.Itoa(int(sv.ttl.Seconds()))
		fields = append(fields, "e", ends)
	}
	keep := "" // the message ids' TTL, when it is to be set again (as remember does)
	if sv.chatID != "" && bg.msgsEnds < now.Unix()+int64(msgsTTL.Seconds()) {
		keep = strconv.Itoa(int(msgsKeep.Seconds()))
		fields = append(fields, "m", now.Unix()+int64(msgsKeep.Seconds()))
	}
	kept := ""
	switch {
	case sv.data == nil:
		kept = "ended"
	case sv.replies != nil && sv.msgID != "":
		kept = hashID(sv.msgID) + " " + string(sv.replies)
	}
	args := append([]any{bg.version, kept, ttl, newVersion()}, fields...)
	args = append(args, int(replayTTL.Seconds()), sv.chatID, keep, now.Unix(), bg.token)
	res, err := s.pipe.script(ctx, commitScript, s.keys(p), args...).Int()
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
	return unlockScript.Run(ctx, s.rdb, keys, bg.token, at, chatMsgID, int(msgsKeep.Seconds())).Err()
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
// message that wiped, if any. It keeps, for ARGV[5] ms, only the wipe's time ARGV[4] (µs)
// and a new version ARGV[7] in conv: a message that came before the wipe and is handled after
// it is dropped (Handle), and a reply that was on its way is deleted (remember).
var wipeConvScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[1] then return {0} end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[3] - ARGV[2], '+inf')
if ARGV[6] ~= '' then table.insert(ids, ARGV[6]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'w', ARGV[4], 'v', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, ids}
`)

// wipe deletes every key of conversation p, which bg's message holds locked, and returns the
// chat's message ids younger than 48 hours, chatMsgID's (the message that wiped) among them.
// It keeps the wipe's time for wipedTTL, for the messages that were on their way.
func (s *store) wipe(ctx context.Context, p string, bg begun, chatMsgID string) ([]string, error) {
	now := time.Now()
	res, err := wipeConvScript.Run(ctx, s.rdb, s.keys(p), bg.version, int(msgsTTL.Seconds()), now.Unix(),
		now.UnixMicro(), wipedTTL.Milliseconds(), chatMsgID, newVersion()).Slice()
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

// rememberScript records message ids ARGV[5]… at ARGV[1] (unix s) for a conversation that
// still exists (its conv has a version): a message that was on its way while the conversation
// was wiped must not bring a key back. It returns 2 for such a message (queued, ARGV[3] µs,
// before the wipe's time, conv's w): it is to be deleted. conv's m is when msgs expires (unix
// s): its TTL, ARGV[2] s, is set again only when m is before ARGV[4], once in a while, and
// then ids older than that are dropped.
var rememberScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'w', 'v', 'm')
if f[1] and tonumber(ARGV[3]) > 0 and tonumber(ARGV[3]) <= tonumber(f[1]) then return 2 end
if not f[2] then return 0 end
local add = {}
for i = 5, #ARGV do table.insert(add, ARGV[1]) table.insert(add, ARGV[i]) end
redis.call('ZADD', KEYS[2], unpack(add))
if tonumber(f[3] or 0) < tonumber(ARGV[4]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1] - ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'm', ARGV[1] + ARGV[2])
end
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
		q = queued.UnixMicro()
	}
	now := time.Now().Unix()
	args := []any{now, int64(msgsKeep.Seconds()), q, now + int64(msgsTTL.Seconds())}
	for _, id := range msgIDs {
		args = append(args, id)
	}
	keys := []string{s.key(p, "conv"), s.key(p, "msgs")}
	n, err := s.pipe.script(ctx, rememberScript, keys, args...).Int()
	return n == 2, err
}

// newVersion is a conversation's next version: random, so that it never comes back.
func newVersion() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
