package handoff

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/handoff/roster"
)

// OnDuty counts the operators on call a new case in lang would go to now (backups, who may be
// asleep, are not counted). It waits for Redis at most onDutyWait, or less if ctx ends first,
// and rarely at all (see onCallNow).
func (d *Desk) OnDuty(ctx context.Context, lang string) int {
	ctx, cancel := context.WithTimeout(ctx, onDutyWait)
	defer cancel()
	onCall := d.onCallNow(ctx)
	if speakers := only(onCall, func(o roster.Operator) bool { return o.Speaks(lang) }); len(speakers) > 0 {
		return len(speakers)
	}
	return len(onCall)
}

// onDutyWait bounds OnDuty's wait for Redis, whatever the caller's deadline: a person's
// message must not hang on it, nor outlive its conversation's lock.
const onDutyWait = 2 * time.Second

// onCallNow returns the operators on duty now, by roster and /duty, kept for 5 seconds. One
// caller at a time reads Redis, outside the lock; meanwhile the others take the last count of
// the same roster, or wait for the new one (or for ctx: then shifts alone decide).
func (d *Desk) onCallNow(ctx context.Context) []roster.Operator {
	for {
		d.mu.Lock()
		now, r, kept := d.now(), d.roster(), d.onCall
		ours := kept != nil && r == d.cachedR // a count of this roster
		fresh := ours && now.Sub(d.cachedT) < 5*time.Second && !now.Before(d.cachedT)
		wait := d.refreshing
		if r != nil && !fresh && wait == nil {
			d.refreshing = make(chan struct{})
		}
		d.mu.Unlock()
		switch {
		case r == nil:
			return nil
		case fresh:
			return kept
		case wait == nil: // this caller reads
			return d.refreshOnCall(ctx, r, now)
		case ours:
			return kept // a little old: the new count is being read
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return r.OnCall(now, nil)
		}
	}
}

// refreshOnCall reads who is on duty by /duty today, counts the operators on call, keeps the
// count (unless ctx ended: another caller reads again) and tells those waiting for it.
func (d *Desk) refreshOnCall(ctx context.Context, r *roster.Roster, now time.Time) []roster.Operator {
	d.mu.Lock()
	gen := d.dutyGen
	d.mu.Unlock()
	duty, err := d.readDuty(ctx, r, now)
	onCall := only(r.OnCall(now, duty), func(o roster.Operator) bool { return d.reachable(ctx, o) })
	if onCall == nil {
		onCall = []roster.Operator{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// A /duty since the reading began makes it stale: the next caller reads again.
	if (err == nil || ctx.Err() == nil) && gen == d.dutyGen {
		d.onCall, d.cachedT, d.cachedR = onCall, now, r
	}
	close(d.refreshing)
	d.refreshing = nil
	return onCall
}

// Recount forgets who is on call, so that the next message counts again: a counsellor of the
// desk opened their page (Presence), and may be promised to people from now.
func (d *Desk) Recount() {
	d.mu.Lock()
	d.onCall = nil
	d.dutyGen++
	d.mu.Unlock()
}

// Presence is what a Phones may also tell: whether an operator can be reached on it now (the
// desk in the browser: their page is open). One who cannot is not on call: nobody is promised
// a counsellor who would not see the case.
type Presence interface {
	Present(ctx context.Context, id string) bool
}

// reachable reports whether o can be reached now: always on a channel that does not say.
func (d *Desk) reachable(ctx context.Context, o roster.Operator) bool {
	p, ok := d.operators[o.Address.Channel].(Presence)
	return !ok || p.Present(ctx, o.Address.ID)
}

// readDuty reads the operators' /duty of the day. When Redis fails, shifts alone decide.
func (d *Desk) readDuty(ctx context.Context, r *roster.Roster, now time.Time) (map[string]bool, error) {
	ops := r.Operators()
	duty := map[string]bool{}
	if len(ops) == 0 {
		return duty, nil
	}
	// One GET each in a pipeline, not MGET: on a cluster the keys live on different nodes.
	pipe := d.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(ops))
	for i, o := range ops {
		gets[i] = pipe.Get(ctx, d.opKey(o.ID, "duty:"+r.Day(now)))
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		d.log.Warn("handoff: /duty not read; shifts only", "err", err)
	} else {
		err = nil
	}
	for i, g := range gets {
		if v, err := g.Result(); err == nil {
			duty[ops[i].ID] = v == "on"
		}
	}
	return duty, err
}
