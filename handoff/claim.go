package handoff

// Taking a case and giving it back: /claim (also of a case its counsellor left the roster
// with), /release, and heldBy, the check that a case is the operator's.

import (
	"context"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/stats"
)

// claim gives a waiting case to o, if nobody was faster.
func (d *Desk) claim(ctx context.Context, o roster.Operator, id string) ([]bot.Reply, error) {
	if id == "" {
		return say("", opHelp), nil
	}
	held, err := d.mine(ctx, o)
	if err != nil {
		return nil, err
	}
	mine := slices.ContainsFunc(held, func(r *record) bool { return r.ID == id })
	if limit := max(o.MaxCases, 1); len(held) >= limit && !mine {
		return say("", opFull, limit, limit), nil
	}
	if !mine && !d.isOnCall(ctx, o) {
		r, err := d.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if r != nil && !slices.Contains(r.Notified, o.ID) {
			return say("", opOffDuty, id), nil
		}
	}
	now := d.now()
	res, err := claimScript.Run(ctx, d.rdb, []string{d.key(id, "case")}, o.ID, now.UnixMilli()).StringSlice()
	if err != nil {
		return nil, err
	}
	if res[0] == "taken" && res[1] != o.ID {
		if _, known := d.operator(res[1]); !known {
			// Held by an operator who left the roster, and no instance gave it back yet: give
			// it back (the person and those on call are told), then claim it.
			if res, err = d.claimFromRemoved(ctx, o, id, res[1], now); err != nil {
				return nil, err
			}
		}
	}
	switch res[0] {
	case "gone":
		return say("", opGone, id, id), nil
	case "taken":
		if res[1] == o.ID {
			return say(id, opClaimed, id, o.AliasIn("el"), o.AliasIn("el")), nil
		}
		other, _ := d.operator(res[1])
		return say("", opTaken, id, other.AliasIn("el")), nil
	}
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return say("", opGone, id, id), err
	}
	pipe := d.rdb.Pipeline()
	pipe.SAdd(ctx, d.opKey(o.ID, "cases"), id)
	pipe.Expire(ctx, d.opKey(o.ID, "cases"), d.retention)
	pipe.ZRem(ctx, d.global("waiting"), id)
	// The person waits for the operator's first words.
	pipe.ZAdd(ctx, d.global("silent"), redis.Z{Score: float64(now.Add(d.answerFor(r.Tier)).UnixMilli()), Member: id})
	pipe.Expire(ctx, d.global("silent"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	d.m.claimTime.Observe(now.Sub(r.Created).Seconds())
	d.count("claimed", func(s *stats.Counter) error { return s.Claimed(ctx, now.Sub(r.Created)) })
	d.audit(ctx, "claimed", id, "operator", o.ID, "alias", o.AliasIn("el"))
	d.solely(ctx, o)
	d.tellMessage(ctx, r, "handoff_claimed", map[string]any{"Alias": o.AliasIn(r.Lang)})
	for _, other := range r.Notified {
		if other == o.ID {
			continue
		}
		if op, ok := d.operator(other); ok {
			_ = d.send(ctx, op, say(id, opTakenBy, id, o.AliasIn("el"), o.AliasIn("en")))
		}
	}
	replies := say(id, opClaimed, id, o.AliasIn(r.Lang), o.AliasIn(r.Lang))
	if brief, err := d.brief(ctx, r, o, true); err == nil {
		replies = append(replies, bot.Reply{Text: brief, Tag: id, Shown: true})
	}
	// What was written before: by the person while waiting, by an earlier counsellor, notes.
	return append(replies, d.transcript(ctx, id)...), nil
}

// claimFromRemoved gives back case id, held by operator gone who left the roster, and claims
// it for o; it returns what claimScript did.
func (d *Desk) claimFromRemoved(ctx context.Context, o roster.Operator, id, gone string, now time.Time) ([]string, error) {
	r, err := d.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if r != nil && r.State == stateClaimed && r.Operator == gone {
		if _, err := d.giveBack(ctx, r, operatorRemoved, true); err != nil {
			return nil, err
		}
	}
	return claimScript.Run(ctx, d.rdb, []string{d.key(id, "case")}, o.ID, now.UnixMilli()).StringSlice()
}

// heldBy loads a case that o holds, or says why not.
func (d *Desk) heldBy(ctx context.Context, o roster.Operator, id string) (*record, []bot.Reply, error) {
	r, err := d.load(ctx, id)
	switch {
	case err != nil:
		return nil, nil, err
	case r == nil:
		return nil, say("", opGone, id, id), nil
	case r.State != stateClaimed || r.Operator != o.ID:
		return nil, say("", opNotYours, id), nil
	}
	return r, nil, nil
}

// release gives case id, which o holds, back to those on call; why is the audit's reason.
func (d *Desk) release(ctx context.Context, o roster.Operator, id, why string) ([]bot.Reply, error) {
	r, refusal, err := d.heldBy(ctx, o, id)
	if r == nil {
		return refusal, err
	}
	back, err := d.giveBack(ctx, r, why, true)
	if err != nil {
		return nil, err
	}
	if !back { // closed, or given back, a moment ago
		return say("", opNotYours, id), nil
	}
	return d.nowTo(ctx, o, say("", opReleased, id))
}
