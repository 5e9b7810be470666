package bot

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/seal"
)

// Outbox keeps a channel's outgoing messages in Redis until they are delivered, so that the
// messages an instance had queued when it died are delivered by another. Each instance holds
// a lease on the messages it put and renews it while it works through them; Take hands the
// messages of a lapsed lease to whoever asks. Delivery is at least once: a message sent just
// before its instance died may be sent again. A wiped chat's messages are never taken over,
// and WipedSince tells every instance to drop those it holds.
//
//	PREFIX:{outbox:CHANNEL}:items   hash: id → a random token of the instance holding it, a space, the message sealed
//	PREFIX:{outbox:CHANNEL}:lease   sorted set: id → lease deadline (ms)
//	PREFIX:{outbox:CHANNEL}:wiped   sorted set: chat tag → when the chat was wiped (µs)
//
// All three expire OutboxMaxAge after the last Put or Wipe (a Put renews them once a
// minute at most, so up to a minute sooner). An id is "PUT-N-TAG-TOKEN": when it
// was put (µs), its place among the messages put with it, its chat's tag (a keyed hash of the
// chat id) and a random token. Times are Redis' clock, the same for every instance. The
// messages hold chat ids and texts, so they are sealed with a key derived from the service's
// secret: a copy of Redis alone reads nothing.
type Outbox struct {
	rdb   redis.UniversalClient
	puts  batcher[*putting] // concurrent Puts, in one script
	keys  []string          // items, lease, wiped
	me    string            // this instance's token in items
	aead  cipher.AEAD
	tags  []byte        // HMAC key of the chat tags
	Lease time.Duration // how long a message stays with the instance that put or took it without a Renew

	renewed atomic.Int64 // when this instance last set the keys' TTL (unix ms); 0: never
}

// OutboxMaxAge is how old a message may be and still be delivered: later it would answer a
// question nobody remembers asking. It is also the TTL of the outbox's keys.
const OutboxMaxAge = time.Hour

// NewOutbox returns the outbox of channel. secret is the service's secret (the pseudonym key).
func NewOutbox(rdb redis.UniversalClient, prefix, channel string, secret []byte) *Outbox {
	base := prefix + ":{outbox:" + channel + "}:"
	o := &Outbox{rdb: rdb, keys: []string{base + "items", base + "lease", base + "wiped"}, me: newToken(),
		aead: seal.AEAD(derive(secret, "faros outbox v1")), tags: derive(secret, "faros outbox tags v1"), Lease: 15 * time.Second}
	o.puts.run = o.put
	return o
}

// Tag is the keyed hash by which the outbox knows chat.
func (o *Outbox) Tag(chat string) string {
	m := hmac.New(sha256.New, o.tags)
	m.Write([]byte(chat))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// now, in a script: Redis' clock in µs (exact in Lua's doubles until the year 2255).
const luaNow = `local t = redis.call('TIME') local now = t[1] * 1000000 + t[2]
`

// putScript stores the messages of one or more chats and returns their ids, in order. From
// ARGV[5] on come the chats, each as its tag, the number n of its messages, and n pairs of a
// message sealed and its token. Each is leased for ARGV[1] ms to owner ARGV[3] under an id
// made of Redis' time, its place among those put together and its chat's tag and token. It
// sets the keys' TTL to ARGV[2] seconds when ARGV[4] asks (each instance does once a minute)
// or when they have none (they were emptied, and made again now). The time is Redis' own,
// the same for every instance: a wipe is compared with it.
var putScript = redis.NewScript(luaNow + `
local ids, items, lease = {}, {}, {}
local deadline, i = math.floor(now / 1000) + ARGV[1], 5
while i <= #ARGV do
  local tag, n = ARGV[i], tonumber(ARGV[i + 1])
  for j = 1, n do
    local id = string.format('%016d-%04d-%s-%s', now, #ids + 1, tag, ARGV[i + 2 * j + 1])
    table.insert(items, id) table.insert(items, ARGV[3] .. ' ' .. ARGV[i + 2 * j])
    table.insert(lease, deadline) table.insert(lease, id)
    table.insert(ids, id)
  end
  i = i + 2 + 2 * n
end
redis.call('HSET', KEYS[1], unpack(items))
redis.call('ZADD', KEYS[2], unpack(lease))
if ARGV[4] ~= '' or redis.call('TTL', KEYS[1]) < 0 then
  for _, k in ipairs({KEYS[1], KEYS[2]}) do redis.call('EXPIRE', k, ARGV[2]) end
end
return ids
`)

// putting is a chat's messages on their way to putScript: the tag, their number, and each
// sealed with its token; ids are what the script gave them.
type putting struct {
	args []any
	ids  []string
}

func (p *putting) count() int { return len(p.args)/2 - 1 }

// Put keeps the messages of chat until Done, leased to the caller, and returns their ids in
// order. The Puts of other chats made while one is in flight go together in one script: under
// load the outbox costs Redis a few commands per batch, not per message.
func (o *Outbox) Put(ctx context.Context, chat string, messages [][]byte) ([]string, error) {
	if len(messages) == 0 {
		return nil, nil
	}
	tag := o.Tag(chat)
	p := &putting{args: []any{tag, len(messages)}}
	for _, msg := range messages {
		token := newToken()
		p.args = append(p.args, seal.Seal(o.aead, msg, tag+"-"+token), token)
	}
	if err := o.puts.do(ctx, p); err != nil {
		return nil, fmt.Errorf("outbox: put: %w", err)
	}
	return p.ids, nil
}

// putMax bounds the messages of one putScript, well within what Lua's unpack takes (8,000
// values, two per message): a batch with more is put in several.
const putMax = 500

// put runs putScript for a batch of Puts (under batchContext).
func (o *Outbox) put(ctx context.Context, batch []*call[*putting]) {
	ctx, cancel := batchContext(ctx, len(batch))
	defer cancel()
	for len(batch) > 0 {
		renew, now := "", time.Now().UnixMilli()
		if last := o.renewed.Load(); now-last > time.Minute.Milliseconds() && o.renewed.CompareAndSwap(last, now) {
			renew = "1"
		}
		args := []any{o.Lease.Milliseconds(), int(OutboxMaxAge.Seconds()), o.me, renew}
		n, messages := 0, 0
		for ; n < len(batch) && (n == 0 || messages+batch[n].v.count() <= putMax); n++ {
			args = append(args, batch[n].v.args...)
			messages += batch[n].v.count()
		}
		ids, err := putScript.Run(ctx, o.rdb, o.keys, args...).StringSlice()
		if err == nil && len(ids) != messages {
			err = fmt.Errorf("%d ids for %d messages", len(ids), messages)
		}
		for _, c := range batch[:n] {
			c.err = err
			if err == nil {
				c.v.ids, ids = ids[:c.v.count()], ids[c.v.count():]
			}
		}
		if err != nil && renew != "" {
			o.renewed.Store(0) // the TTL may not have been set: the next Put sets it
		}
		batch = batch[n:]
	}
}

// Done forgets delivered (or given up) messages.
func (o *Outbox) Done(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, o.keys[0], ids...)
		p.ZRem(ctx, o.keys[1], toAny(ids)...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: done: %w", err)
	}
	return nil
}

// renewScript extends by ARGV[1] ms the lease of the ids ARGV[3]… that owner ARGV[2] still
// holds, and returns the others: done, or taken over while the lease had lapsed.
var renewScript = redis.NewScript(luaNow + `
local deadline = math.floor(now / 1000) + ARGV[1]
local lost = {}
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. ' ' then
    redis.call('ZADD', KEYS[2], 'XX', deadline, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
`)

// Renew extends the lease of messages still waiting to be delivered, and returns those this
// instance no longer holds: after its lease lapsed (Redis or the process stopped for longer)
// another instance took them over, and sends them.
func (o *Outbox) Renew(ctx context.Context, ids ...string) (lost []string, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	lost, err = renewScript.Run(ctx, o.rdb, o.keys, append([]any{o.Lease.Milliseconds(), o.me}, toAny(ids)...)...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("outbox: renew: %w", err)
	}
	return lost, nil
}

// takeScript leases to owner ARGV[4], for ARGV[1] ms, up to ARGV[2] messages whose lease lapsed,
// and returns them as id, sealed message pairs (without their owner). It drops those older than ARGV[3] µs and
// those of a chat wiped after they were put.
var takeScript = redis.NewScript(luaNow + `
local ms = math.floor(now / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ms, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local put, tag = string.match(id, '^(%d+)%-%d+%-(%x+)%-')
  put = tonumber(put) or 0
  local wiped = tag and redis.call('ZSCORE', KEYS[3], tag)
  local v = redis.call('HGET', KEYS[1], id)
  local sealed = v and string.match(v, '^%S+ (.*)$')
  if not sealed or (wiped and tonumber(wiped) >= put) or now - put > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  else
    redis.call('ZADD', KEYS[2], ms + ARGV[1], id)
    redis.call('HSET', KEYS[1], id, ARGV[4] .. ' ' .. sealed)
    table.insert(out, id)
    table.insert(out, sealed)
  end
end
return out
`)

// Pending is a message of the outbox.
type Pending struct {
	ID      string
	Message []byte
}

// Take leases to the caller up to max messages whose instance let their lease lapse (it died),
// oldest first. Messages older than OutboxMaxAge, of a chat wiped since, or sealed with another
// secret are dropped.
func (o *Outbox) Take(ctx context.Context, max int) ([]Pending, error) {
	res, err := takeScript.Run(ctx, o.rdb, o.keys, o.Lease.Milliseconds(), max, OutboxMaxAge.Microseconds(), o.me).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("outbox: take: %w", err)
	}
	var taken []Pending
	var unreadable []string
	for i := 0; i+1 < len(res); i += 2 {
		id := res[i]
		msg, err := seal.Open(o.aead, []byte(res[i+1]), label(id))
		if err != nil {
			unreadable = append(unreadable, id)
			continue
		}
		taken = append(taken, Pending{ID: id, Message: msg})
	}
	// Leases renewed at different times can lapse out of order: the ids tell the order put.
	slices.SortFunc(taken, func(a, b Pending) int { return strings.Compare(a.ID, b.ID) })
	return taken, o.Done(ctx, unreadable...)
}

// label is what a message was sealed with: the tag and token of its id.
func label(id string) string {
	parts := strings.SplitN(id, "-", 3)
	return parts[len(parts)-1]
}

// wipeScript records that chat tag ARGV[1] was wiped now and forgets wipes older than ARGV[2]
// seconds. It returns the time.
var wipeScript = redis.NewScript(luaNow + `
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ARGV[2] * 1000000)
redis.call('EXPIRE', KEYS[3], ARGV[2])
return string.format('%.0f', now)
`)

// Wipe records that chat was wiped: none of the messages put for it until now will be taken
// over, and WipedSince tells the instances that hold some to drop them. It returns the time
// of the wipe, to compare with Before.
func (o *Outbox) Wipe(ctx context.Context, chat string) (int64, error) {
	at, err := wipeScript.Run(ctx, o.rdb, o.keys, o.Tag(chat), int(OutboxMaxAge.Seconds())).Int64()
	if err != nil {
		return 0, fmt.Errorf("outbox: wipe: %w", err)
	}
	return at, nil
}

// wipedScript returns the time and the chat tags wiped after ARGV[1], with their times.
var wipedScript = redis.NewScript(luaNow + `
return {string.format('%.0f', now), redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[1], '+inf', 'WITHSCORES')}
`)

// WipedSince returns the chats (by Tag) wiped after cursor, each with the time of its wipe,
// and the cursor for the next call; start with 0 (every wipe of the last OutboxMaxAge).
func (o *Outbox) WipedSince(ctx context.Context, cursor int64) (map[string]int64, int64, error) {
	res, err := wipedScript.Run(ctx, o.rdb, o.keys, cursor).Slice()
	if err != nil {
		return nil, cursor, fmt.Errorf("outbox: wiped: %w", err)
	}
	if len(res) != 2 {
		return nil, cursor, fmt.Errorf("outbox: wiped: %d values; want 2", len(res))
	}
	now, _ := strconv.ParseInt(fmt.Sprint(res[0]), 10, 64)
	pairs, _ := res[1].([]any)
	wiped := map[string]int64{}
	for i := 0; i+1 < len(pairs); i += 2 {
		tag, _ := pairs[i].(string)
		at, _ := strconv.ParseFloat(fmt.Sprint(pairs[i+1]), 64)
		wiped[tag] = int64(at)
	}
	return wiped, now, nil
}

// Before says whether the message with this id was put before time at (of Wipe or
// WipedSince).
func Before(id string, at int64) bool {
	put, err := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64)
	return err == nil && put <= at
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
