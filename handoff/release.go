package handoff

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/handoff/roster"
)

// Why a case went back to those on call, in the audit trail.
const (
	byOperator      = "operator_released" // its operator wrote /release
	operatorRemoved = "operator_removed"  // its operator is no longer on the roster
	unanswered      = "unanswered"        // its operator did not answer the person in time (watchdog)
	unreachable     = "unreachable"       // its operator's chat could not be reached
)

// RosterReloaded gives back to those on call every case held by an operator of previous who
// is not on the roster in force, and deletes what the desk kept of that operator. The service
// calls it right after it stored a newly loaded roster; without it the cases of a removed
// operator would wait for them until they expire, the person's words reaching nobody.
//
// Several instances may call it for the same change: each case goes back once, and the person
// and the operators are told once. A case this misses (an instance still on the old roster let
// the removed operator claim it) goes back when the person writes, when someone claims it, or
// at the next instance's call.
func (d *Desk) RosterReloaded(ctx context.Context, previous *roster.Roster) {
	if previous == nil {
		return
	}
	now := d.roster()
	for _, o := range previous.Operators() {
		if now != nil {
			if _, ok := now.Operator(o.ID); ok {
				continue
			}
		}
		d.dropOperator(ctx, o.ID, previous)
	}
}

// dropOperator gives back the cases of operator op, who left the roster, then deletes their
// keys; was is the roster they were on, for the days of their /duty.
func (d *Desk) dropOperator(ctx context.Context, op string, was *roster.Roster) {
	ids, err := d.rdb.SMembers(ctx, d.opKey(op, "cases")).Result()
	if err != nil {
		d.log.Error("handoff: the cases of a removed operator were not read", "operator", op, "err", err)
		return
	}
	complete := true
	for _, id := range ids {
		r, err := d.load(ctx, id)
		if err == nil && r != nil && r.State == stateClaimed && r.Operator == op {
			_, err = d.giveBack(ctx, r, operatorRemoved, true)
		}
		if err != nil {
			d.log.Error("handoff: a case of a removed operator was not given back", "case", id, "operator", op, "err", err)
			complete = false
		}
	}
	keys := []string{d.opKey(op, "held"), d.opKey(op, "msgs"), d.opKey(op, "sole")}
	if complete { // else the set still finds what was missed, for another instance's call
		keys = append(keys, d.opKey(op, "cases"))
	}
	// /duty lasts 48 hours: the day it was written for may be today, yesterday or the day before.
	for day := range 3 {
		keys = append(keys, d.opKey(op, "duty:"+was.Day(d.now().Add(-time.Duration(day)*24*time.Hour))))
	}
	// One DEL each in a pipeline: on a cluster the keys live on different nodes.
	pipe := d.rdb.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Warn("handoff: the keys of a removed operator were not deleted; they expire", "operator", op, "err", err)
	}
}

// giveBack releases a case from its operator, r.Operator, to everyone on call: it is open
// again, back in the escalation schedule, and the operators on call get it again, an
// emergency (tier 3) as urgent. why is the audit's reason; when the operator left the roster,
// a line heads the packet to say so. With tell the person is told (handoff_released); Relay
// tells them in its answer instead, which the bot keeps back after a duress word.
//
// It reports whether this call gave the case back: nothing happens when the case is no longer
// that operator's (another instance was first, or it closed).
func (d *Desk) giveBack(ctx context.Context, r *record, why string, tell bool) (bool, error) {
	op := r.Operator
	back, err := releaseScript.Run(ctx, d.rdb, []string{d.key(r.ID, "case")}, op).Bool()
	if err != nil || !back {
		return false, err
	}
	r.State, r.Operator, r.Claimed, r.Nudged = stateOpen, "", time.Time{}, 0
	alias := op
	if o, ok := d.operator(op); ok {
		alias = o.AliasIn("el")
	}
	r.History = append(r.History, historyEntry(histReleased, d.now(), alias+"|"+why))
	if err := d.save(ctx, r, "nudged", "history"); err != nil {
		d.log.Warn("handoff: a released case's history not saved", "case", r.ID, "err", err)
	}
	pipe := d.rdb.Pipeline()
	pipe.SRem(ctx, d.opKey(op, "cases"), r.ID)
	pipe.ZRem(ctx, d.global("silent"), r.ID)
	pipe.ZAdd(ctx, d.global("waiting"), redis.Z{Score: float64(d.now().Add(d.waitFor(r.Tier)).UnixMilli()), Member: r.ID})
	pipe.Expire(ctx, d.global("waiting"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		// It is open: a claim finds it, the person's next message notifies again.
		d.log.Warn("handoff: a released case is not in the escalation schedule", "case", r.ID, "err", err)
	}
	d.audit(ctx, "released", r.ID, "operator", op, "reason", why)
	// Someone may have claimed it between the release and the schedule above (an old Claim
	// button): then it is theirs, and nobody is told it was given back.
	if now, err := d.load(ctx, r.ID); err == nil && now != nil && now.State != stateOpen {
		pipe := d.rdb.Pipeline()
		pipe.ZRem(ctx, d.global("waiting"), r.ID)
		if now.State == stateClaimed {
			pipe.ZAdd(ctx, d.global("silent"), redis.Z{Score: float64(d.now().Add(d.answerFor(now.Tier)).UnixMilli()), Member: r.ID})
		}
		_, _ = pipe.Exec(ctx)
		r.State = now.State
		return true, nil
	}
	if tell {
		d.tellMessage(ctx, r, "handoff_released", nil)
	}
	r.Notified = slices.DeleteFunc(r.Notified, func(s string) bool { return s == op })
	note := ""
	switch why {
	case operatorRemoved:
		note = fmt.Sprintf(opRemoved, r.ID)
	case unreachable:
		note = fmt.Sprintf(opUnreachable, r.ID)
	case unanswered:
		since := r.Heard
		if since.IsZero() {
			since = r.Created
		}
		silent := minutes(d.now().Sub(since))
		note = fmt.Sprintf(opUnanswered, r.ID, silent, silent)
	}
	d.notify(ctx, r, 1, true, note, op)
	return true, nil
}

// releaseScript opens a case again if it is still claimed by operator ARGV[1], so that of
// several instances releasing it at once only one tells the person and the operators.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'claimed' or redis.call('HGET', KEYS[1], 'operator') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'open', 'operator', '', 'claimed', 0)
return 1
`)
