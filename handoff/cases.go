package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keys of the desk. Keys of one case share the hash tag {c:ID}; every key has a TTL.
//
//	PREFIX:{c:ID}:case     hash: the case's state and sealed data      TTL: Retention
//	PREFIX:{c:ID}:key      the case key, wrapped                        TTL: Retention, deleted on close
//	PREFIX:{c:ID}:log      list: sealed messages and notes, oldest first TTL: Retention
//	PREFIX:{c:ID}:phones   list: "OPERATOR:CHAT:MESSAGE", the case's messages in operators'
//	                       chats, deleted from them when it closes      TTL: Retention
//	PREFIX:handoff:queue   stream: cases to notify (consumer group "desk")
//	PREFIX:handoff:waiting sorted set: unclaimed case → when it escalates (unix ms)
//	PREFIX:handoff:silent  sorted set: claimed case whose person waits for an answer → when
//	                       its operator is reminded, or it goes to the others (unix ms)
//	PREFIX:handoff:audit   stream: every change of every case, by case id and operator handle
//	                       (renewed on every write; expires AuditRetention after the last)
//	PREFIX:op:ID:duty:DAY  an operator's "/duty on" or "off" for a day  TTL: 2 days
//	PREFIX:op:ID:cases     set: the cases the operator holds            TTL: Retention
//	PREFIX:op:ID:msgs      hash: message id in the operator's chat → its case, for replies
//	                                                                    TTL: Retention
//	PREFIX:op:ID:sole      the one case the operator's words go to without a reply
//	                                                                    TTL: Retention
//	PREFIX:op:ID:held      hash: sealed words waiting for the operator to say which case they
//	                       are for                                      TTL: 15 minutes
//	PREFIX:op:ID:seen:U    an operator's update already handled         TTL: 1 day
//
// The streams and the sorted set are renewed on every write and expire after Retention
// without one.

// States of a case.
const (
	stateOpen    = "open"    // waiting for an operator
	stateClaimed = "claimed" // an operator talks with the person
	stateClosing = "closing" // its operator confirmed the close, which is under way
)

// record is a case as Redis holds it.
type record struct {
	ID        string
	State     string
	Channel   string // of the person
	Lang      string
	Tier      int
	Reason    string
	Operator  string   // the handle of the operator who claimed it
	Notified  []string // handles of the operators told about it
	Level     int      // escalation level reached
	Told      bool     // the person was told nobody could answer yet
	Created   time.Time
	Claimed   time.Time
	Reassured time.Time
	Alerted   time.Time // the last call for help that was sent to those on call while waiting
	AlertKind string    // what that call was: help, emergency, duress
	Duress    bool      // the person typed the duress word: Faros never writes to them first
	Heard     time.Time // the person's last message
	Waited    int       // messages the person wrote while the case was waiting
	Spoke     int       // messages the person wrote in the case
	Nudged    int       // watchdog steps taken since the operator last wrote: 1 reminded
	Given     []string  // the numbers the person was shown
	History   []string  // escalations, releases, raises: see historyEntry
	Packet    []byte    // sealed
	Addr      []byte    // sealed: the person's channel id, for delivery
}

func (d *Desk) key(id, kind string) string   { return d.prefix + ":{c:" + id + "}:" + kind }
func (d *Desk) global(kind string) string    { return d.prefix + ":handoff:" + kind }
func (d *Desk) opKey(op, kind string) string { return d.prefix + ":op:" + op + ":" + kind }

func (r *record) fields() map[string]any {
	return map[string]any{
		"state": r.State, "channel": r.Channel, "lang": r.Lang, "tier": r.Tier, "reason": r.Reason,
		"operator": r.Operator, "notified": strings.Join(r.Notified, ","), "level": r.Level,
		"told": strconv.FormatBool(r.Told), "created": r.Created.UnixMilli(), "claimed": r.Claimed.UnixMilli(),
		"reassured": r.Reassured.UnixMilli(), "packet": string(r.Packet), "addr": string(r.Addr),
		"alerted": r.Alerted.UnixMilli(), "alertkind": r.AlertKind, "duress": strconv.FormatBool(r.Duress),
		"heard": r.Heard.UnixMilli(), "waited": r.Waited, "spoke": r.Spoke, "nudged": r.Nudged,
		"given": strings.Join(r.Given, ","), "history": strings.Join(r.History, "\n"),
	}
}

// load reads a case; nil without error when it does not exist (closed, or expired).
func (d *Desk) load(ctx context.Context, id string) (*record, error) {
	h, err := d.rdb.HGetAll(ctx, d.key(id, "case")).Result()
	if err != nil {
		return nil, fmt.Errorf("load case: %w", err)
	}
	return parseRecord(id, h), nil
}

// parseRecord reads a case from its hash; nil when the hash is empty.
func parseRecord(id string, h map[string]string) *record {
	if len(h) == 0 {
		return nil
	}
	num := func(k string) int { n, _ := strconv.Atoi(h[k]); return n }
	ms := func(k string) time.Time {
		n, _ := strconv.ParseInt(h[k], 10, 64)
		if n <= 0 {
			return time.Time{}
		}
		return time.UnixMilli(n)
	}
	r := &record{ID: id, State: h["state"], Channel: h["channel"], Lang: h["lang"], Tier: num("tier"),
		Reason: h["reason"], Operator: h["operator"], Level: num("level"), Told: h["told"] == "true",
		Created: ms("created"), Claimed: ms("claimed"), Reassured: ms("reassured"), Heard: ms("heard"),
		Alerted: ms("alerted"), AlertKind: h["alertkind"], Duress: h["duress"] == "true",
		Waited: num("waited"), Spoke: num("spoke"), Nudged: num("nudged"),
		Packet: []byte(h["packet"]), Addr: []byte(h["addr"])}
	split := func(k, sep string) []string {
		if h[k] == "" {
			return nil
		}
		return strings.Split(h[k], sep)
	}
	r.Notified, r.Given, r.History = split("notified", ","), split("given", ","), split("history", "\n")
	return r
}

// save writes the fields of a case that change.
func (d *Desk) save(ctx context.Context, r *record, fields ...string) error {
	all := r.fields()
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		args = append(args, f, all[f])
	}
	return saveScript.Run(ctx, d.rdb, []string{d.key(r.ID, "case")}, args...).Err()
}

// saveScript writes fields of a case that still exists: a case closed (deleted) meanwhile must
// not come back as a partial hash without a TTL.
var saveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// caseKey returns a case's own key, unwrapped.
func (d *Desk) caseKey(ctx context.Context, id string) ([]byte, error) {
	box, err := d.rdb.Get(ctx, d.key(id, "key")).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, errSealed
	}
	if err != nil {
		return nil, err
	}
	return d.keys.unwrap(box, id)
}

// claimScript gives a waiting case to one operator; whoever comes second learns who has it.
var claimScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st or st == 'closing' then return {'gone'} end
if st ~= 'open' then return {'taken', redis.call('HGET', KEYS[1], 'operator')} end
redis.call('HSET', KEYS[1], 'state', 'claimed', 'operator', ARGV[1], 'claimed', ARGV[2])
return {'ok'}
`)

// dueScript takes a waiting case whose time has come, for one instance only, by moving its
// time on.
var dueScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// audit appends one change of a case to the audit stream.
func (d *Desk) audit(ctx context.Context, event, id string, values ...any) {
	fields := append([]any{"event", event, "case", id, "at", d.now().UTC().Format(time.RFC3339)}, values...)
	pipe := d.rdb.Pipeline()
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: d.global("audit"), MaxLen: 100_000, Approx: true, Values: fields})
	pipe.Expire(ctx, d.global("audit"), d.auditLife)
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Error("handoff: audit not written", "event", event, "case", id, "err", err)
	}
	// Every change of a case (or of who is on call: "-") is audited: boards are read again.
	if d.poke != nil {
		d.poke("", strings.TrimPrefix(id, "-"), false, false)
	}
}

// shred deletes everything a case holds but its audit trail; the case's messages leave the
// operators' chats in the background (Telegram allows it for 48 hours). The case goes first:
// an id the channel reports after that is deleted at once (phoned), not kept.
func (d *Desk) shred(ctx context.Context, r *record) {
	if err := d.rdb.Del(ctx, d.key(r.ID, "case"), d.key(r.ID, "key")).Err(); err != nil {
		d.log.Error("handoff: case not deleted", "case", r.ID, "err", err)
	}
	d.unphone(ctx, r.ID)
	pipe := d.rdb.Pipeline()
	pipe.Del(ctx, d.key(r.ID, "log"), d.key(r.ID, "phones"))
	pipe.ZRem(ctx, d.global("waiting"), r.ID)
	pipe.ZRem(ctx, d.global("silent"), r.ID)
	if r.Operator != "" {
		pipe.SRem(ctx, d.opKey(r.Operator, "cases"), r.ID)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Error("handoff: case not deleted", "case", r.ID, "err", err)
	}
}

// closingScript marks a case claimed by operator ARGV[1] as closing (at ARGV[2], unix ms), so
// that of two presses of a close confirmation only one closes it. A close that stopped halfway
// (the instance died) can be done again by the same operator a minute later.
var closingScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if redis.call('HGET', KEYS[1], 'operator') ~= ARGV[1] then return 0 end
if st == 'closing' and tonumber(ARGV[2]) - tonumber(redis.call('HGET', KEYS[1], 'closing') or 0) < 60000 then return 0 end
if st ~= 'claimed' and st ~= 'closing' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'closing', 'closing', ARGV[2])
return 1
`)

// noteScript counts a message of the person in a case that still exists: ARGV[1] is its time
// (unix ms). It returns the case's hash, as HGETALL does (empty when the case is gone): the
// relay needs no second round trip to read it.
var noteScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {} end
redis.call('HINCRBY', KEYS[1], 'spoke', 1)
if st == 'open' then redis.call('HINCRBY', KEYS[1], 'waited', 1) end
redis.call('HSET', KEYS[1], 'heard', ARGV[1])
return redis.call('HGETALL', KEYS[1])
`)
