package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
)

const group = "desk"

// Run notifies operators of queued cases, takes over cases another instance left unconfirmed,
// and escalates unclaimed cases (Tick, every 5 seconds), until ctx ends. When it returns, the
// goroutines it started have returned.
func (d *Desk) Run(ctx context.Context) error {
	if err := d.createGroup(ctx); err != nil {
		return err
	}
	var ticks sync.WaitGroup
	defer ticks.Wait() // Run returns only once the escalations have stopped too
	ticks.Go(func() { d.tickEvery(ctx, 5*time.Second) })
	for ctx.Err() == nil {
		err := d.consume(ctx)
		if err != nil && strings.Contains(err.Error(), "NOGROUP") {
			err = d.createGroup(ctx) // the queue expired after a quiet week
		}
		if err != nil && ctx.Err() == nil {
			d.log.Warn("handoff: reading the queue", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// createGroup makes the queue and its consumer group, if they do not exist.
func (d *Desk) createGroup(ctx context.Context) error {
	err := d.rdb.XGroupCreateMkStream(ctx, d.global("queue"), group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return err
	}
	return d.rdb.Expire(ctx, d.global("queue"), d.retention).Err()
}

func (d *Desk) tickEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Tick(ctx)
		}
	}
}

// consume handles new queue entries, and entries another consumer left unconfirmed for Idle.
func (d *Desk) consume(ctx context.Context) error {
	stale, _, err := d.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: d.global("queue"), Group: group,
		Consumer: d.consumer, MinIdle: d.idle, Start: "0-0", Count: 10}).Result()
	if err != nil {
		return err
	}
	d.handle(ctx, stale)
	streams, err := d.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: d.consumer,
		Streams: []string{d.global("queue"), ">"}, Count: 10, Block: min(d.idle, time.Second)}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, s := range streams {
		d.handle(ctx, s.Messages)
	}
	return nil
}

func (d *Desk) handle(ctx context.Context, msgs []redis.XMessage) {
	for _, m := range msgs {
		id, _ := m.Values["case"].(string)
		if r, err := d.load(ctx, id); err == nil && r != nil && r.State == stateOpen {
			d.notify(ctx, r, r.Level, false, "")
		}
		d.rdb.XAck(ctx, d.global("queue"), group, m.ID)
	}
}

// notify sends a case to the operators of its escalation level who were not told yet, or to
// all of them again with again; note, if any, heads the packet. Each operator reads the packet
// as it is now, for them (an interpreter needed or not), without the code word: only the one
// who claims the case learns it. It returns how many were told. Operator except, if any, is
// not told: the one who just gave the case back.
func (d *Desk) notify(ctx context.Context, r *record, level int, again bool, note string, except ...string) int {
	p, err := d.packetOf(ctx, r) // once; each operator reads it as it is for them
	if err != nil {
		d.log.Error("handoff: packet unreadable", "case", r.ID, "err", err)
		return 0
	}
	var told []string
	for _, o := range d.recipients(ctx, r.Lang, r.Tier, level) {
		if slices.Contains(r.Notified, o.ID) && !again || slices.Contains(except, o.ID) {
			continue
		}
		text := d.render(p, r, o, false)
		if note != "" {
			text = note + "\n" + text
		}
		reply := bot.Reply{Text: text, Urgent: r.Tier >= 3, Ring: true, Tag: r.ID, Shown: true,
			Buttons: []bot.Button{{Data: "claim:" + r.ID, Label: "Ανάληψη · Claim [" + r.ID + "]"}}}
		if err := d.send(ctx, o, []bot.Reply{reply}); err != nil {
			d.log.Warn("handoff: operator not notified", "case", r.ID, "operator", o.ID, "err", err)
			continue
		}
		told = append(told, o.ID)
	}
	if len(told) == 0 {
		return 0
	}
	for _, o := range told {
		if !slices.Contains(r.Notified, o) {
			r.Notified = append(r.Notified, o)
		}
	}
	if err := d.save(ctx, r, "notified"); err != nil {
		d.log.Error("handoff: notified operators not saved", "case", r.ID, "err", err)
	}
	d.audit(ctx, "notified", r.ID, "operators", strings.Join(told, ","), "level", level)
	return len(told)
}

// Tick escalates every case whose wait is over (one instance per case and step) and forgets
// cases that expired. Run calls it every few seconds; tests call it with their own clock.
func (d *Desk) Tick(ctx context.Context) {
	now := d.now()
	d.watch(ctx, now)
	due, err := d.rdb.ZRangeByScore(ctx, d.global("waiting"), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10)}).Result()
	if err != nil {
		d.log.Warn("handoff: escalation schedule unreadable", "err", err)
		return
	}
	if n, err := d.rdb.ZCard(ctx, d.global("waiting")).Result(); err == nil {
		d.m.waiting.Set(float64(n))
	}
	for _, id := range due {
		r, err := d.load(ctx, id)
		if err != nil {
			continue
		}
		if r == nil || r.State != stateOpen {
			d.rdb.ZRem(ctx, d.global("waiting"), id)
			if r == nil {
				d.audit(ctx, "expired", id)
			} else if _, ok := d.operator(r.Operator); !ok {
				// Claimed a moment ago on an instance still on the old roster, by an operator
				// who left it: back to those on call, not out of the schedule.
				if _, err := d.giveBack(ctx, r, operatorRemoved, true); err != nil {
					d.log.Warn("handoff: the case of a removed operator was not given back", "case", id, "err", err)
				}
			}
			continue
		}
		next := now.Add(d.waitFor(r.Tier)).UnixMilli()
		took, err := dueScript.Run(ctx, d.rdb, []string{d.global("waiting")}, id, now.UnixMilli(), next).Int()
		if err != nil || took == 0 {
			continue // another instance took this step
		}
		if r, err = d.load(ctx, id); err != nil || r == nil || r.State != stateOpen {
			continue // claimed (or closed) since: the claim took it out of the schedule
		}
		d.escalate(ctx, r)
	}
}

// escalate moves an unclaimed case one level up: everyone on call, then the backups too. At
// the ladder's end everyone on call and the backups hear that nobody claimed it, and the person
// is told that nobody could answer yet (on tier 3 with 112), once; the case stays open.
func (d *Desk) escalate(ctx context.Context, r *record) {
	now := d.now()
	r.Level++
	r.History = append(r.History, historyEntry(histEscalated, now, strconv.Itoa(r.Level)))
	_ = d.save(ctx, r, "level", "history")
	d.m.escalations.Inc()
	d.audit(ctx, "escalated", r.ID, "level", r.Level)
	if r.Level < 3 || r.Told {
		d.notify(ctx, r, min(r.Level, 2), r.Level == 1, "")
		return
	}
	r.Told = true
	waited := minutes(now.Sub(r.Created))
	note := fmt.Sprintf(opLadderEndQuiet, r.ID, waited, waited)
	if !r.Duress { // else Faros never writes to the person first
		msg, with112 := "handoff_unclaimed", ""
		if r.Tier >= 3 {
			msg, with112 = "handoff_unclaimed_urgent", " (του δόθηκε και το 112)"
			r.Given = addNumbers(r.Given, []string{"112", "1109"})
		} else {
			r.Given = addNumbers(r.Given, []string{"1109", "197"})
		}
		d.tellMessage(ctx, r, msg, nil)
		d.audit(ctx, "told_unclaimed", r.ID)
		note = fmt.Sprintf(opLadderEnd, r.ID, waited, with112, waited)
	}
	_ = d.save(ctx, r, "told", "given")
	d.notify(ctx, r, 2, true, note)
}

// watch runs the watchdog of claimed cases whose person waits for an answer: first the
// operator is reminded, then the case goes to the others on call.
func (d *Desk) watch(ctx context.Context, now time.Time) {
	due, err := d.rdb.ZRangeByScore(ctx, d.global("silent"), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10)}).Result()
	if err != nil {
		d.log.Warn("handoff: the watchdog's schedule unreadable", "err", err)
		return
	}
	for _, id := range due {
		r, err := d.load(ctx, id)
		if err != nil {
			continue
		}
		if r == nil || r.State != stateClaimed {
			d.rdb.ZRem(ctx, d.global("silent"), id)
			continue
		}
		wait := d.answerFor(r.Tier)
		took, err := dueScript.Run(ctx, d.rdb, []string{d.global("silent")}, id, now.UnixMilli(), now.Add(wait).UnixMilli()).Int()
		if err != nil || took == 0 {
			continue // another instance took this step
		}
		o, known := d.operator(r.Operator)
		since := r.Heard
		if since.IsZero() || r.Claimed.After(since) {
			since = r.Claimed
		}
		silent := minutes(now.Sub(since))
		if r.Nudged == 0 && known {
			r.Nudged = 1
			_ = d.save(ctx, r, "nudged")
			remind := fmt.Sprintf(opRemind, id, silent, id, minutes(wait), silent, minutes(wait))
			if r.Duress { // the counsellor may be silent on purpose: once, and never taken away
				remind = fmt.Sprintf(opRemindDuress, id, silent, silent)
			}
			_ = d.send(ctx, o, []bot.Reply{{Text: remind, Ring: true, Urgent: true, Tag: id}})
			d.audit(ctx, "reminded", id, "operator", r.Operator)
			continue
		}
		if r.Duress && known {
			d.rdb.ZRem(ctx, d.global("silent"), id)
			continue
		}
		d.rdb.ZRem(ctx, d.global("silent"), id)
		why := unanswered
		if !known {
			why = operatorRemoved
		}
		if _, err := d.giveBack(ctx, r, why, true); err != nil {
			d.log.Warn("handoff: an unanswered case was not given back", "case", id, "err", err)
			continue
		}
		if known {
			_ = d.send(ctx, o, []bot.Reply{{Text: fmt.Sprintf(opTakenAway, id, silent, silent), Ring: true, Tag: id}})
		}
	}
}
