package bot

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
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
// before its instance died may be sent again.
//
//	PREFIX:{outbox:CHANNEL}:items   hash: id → the message, sealed    TTL: OutboxMaxAge, renewed by each Put
//	PREFIX:{outbox:CHANNEL}:lease   sorted set: id → lease deadline   TTL: the same
//
// The messages hold chat ids and texts, so they are sealed with a key derived from the
// service's secret: a copy of Redis alone reads nothing.
type Outbox struct {
	rdb   redis.UniversalClient
	items string
	lease string
	aead  cipher.AEAD
	Lease time.Duration // how long a message stays with the instance that put or took it without a Renew
}

// OutboxMaxAge is how old a message may be and still be delivered: later it would answer a
// question nobody remembers asking. It is also the TTL of the outbox's keys.
const OutboxMaxAge = time.Hour

// NewOutbox returns the outbox of channel. secret is the service's secret (the pseudonym key).
func NewOutbox(rdb redis.UniversalClient, prefix, channel string, secret []byte) *Outbox {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("faros outbox v1"))
	base := prefix + ":{outbox:" + channel + "}:"
	return &Outbox{rdb: rdb, items: base + "items", lease: base + "lease", aead: seal.AEAD(m.Sum(nil)), Lease: 15 * time.Second}
}

// putCount orders the messages put in one millisecond.
var putCount atomic.Int64

// Put keeps messages until Done, leased to the caller, and returns their ids in order.
func (o *Outbox) Put(ctx context.Context, messages [][]byte) ([]string, error) {
	if len(messages) == 0 {
		return nil, nil
	}
	now := time.Now()
	ids := make([]string, len(messages))
	fields := make([]any, 0, 2*len(messages))
	leases := make([]redis.Z, len(messages))
	for i, msg := range messages {
		// The time and a count first: ids sort in the order they were put.
		ids[i] = fmt.Sprintf("%013d-%012d-%s", now.UnixMilli(), putCount.Add(1), newToken())
		fields = append(fields, ids[i], seal.Seal(o.aead, msg, ids[i]))
		leases[i] = redis.Z{Score: float64(now.Add(o.Lease).UnixMilli()), Member: ids[i]}
	}
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, o.items, fields...)
		p.ZAdd(ctx, o.lease, leases...)
		p.Expire(ctx, o.items, OutboxMaxAge)
		p.Expire(ctx, o.lease, OutboxMaxAge)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: put: %w", err)
	}
	return ids, nil
}

// Done forgets delivered (or given up) messages.
func (o *Outbox) Done(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, o.items, ids...)
		p.ZRem(ctx, o.lease, toAny(ids)...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: done: %w", err)
	}
	return nil
}

// Renew extends the lease of messages still waiting to be delivered.
func (o *Outbox) Renew(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	deadline := float64(time.Now().Add(o.Lease).UnixMilli())
	leases := make([]redis.Z, len(ids))
	for i, id := range ids {
		leases[i] = redis.Z{Score: deadline, Member: id}
	}
	// XX: a message delivered meanwhile is not brought back.
	if err := o.rdb.ZAddXX(ctx, o.lease, leases...).Err(); err != nil {
		return fmt.Errorf("outbox: renew: %w", err)
	}
	return nil
}

// takeScript leases to the caller up to ARGV[3] messages whose lease lapsed before ARGV[1],
// until ARGV[2], and returns them as id, sealed message pairs.
var takeScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[1], id)
  if v then
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    table.insert(out, id)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[2], id)
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
// oldest first. Messages older than OutboxMaxAge, or sealed with another secret, are dropped.
func (o *Outbox) Take(ctx context.Context, max int) ([]Pending, error) {
	now := time.Now()
	res, err := takeScript.Run(ctx, o.rdb, []string{o.items, o.lease}, now.UnixMilli(),
		now.Add(o.Lease).UnixMilli(), max).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("outbox: take: %w", err)
	}
	var taken []Pending
	var stale []string
	for i := 0; i+1 < len(res); i += 2 {
		id := res[i]
		msg, err := seal.Open(o.aead, []byte(res[i+1]), id)
		if err != nil || now.Sub(putAt(id)) > OutboxMaxAge {
			stale = append(stale, id)
			continue
		}
		taken = append(taken, Pending{ID: id, Message: msg})
	}
	// Leases renewed at different times can lapse out of order: the ids tell the order put.
	slices.SortFunc(taken, func(a, b Pending) int { return strings.Compare(a.ID, b.ID) })
	return taken, o.Done(ctx, stale...)
}

// putAt is when the message with this id was put.
func putAt(id string) time.Time {
	ms, _ := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64)
	return time.UnixMilli(ms)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
