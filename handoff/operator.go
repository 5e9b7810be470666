package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
)

// Route returns a bot.Handler that gives the Telegram messages of the roster's operators to
// the desk and every other message to people. Operators' messages never reach the flows; to
// anyone else, operator commands are unknown words.
func (d *Desk) Route(people bot.Handler) bot.Handler { return router{d: d, people: people} }

type router struct {
	d      *Desk
	people bot.Handler
}

func (r router) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	if m.Channel == "telegram" {
		if id, err := strconv.ParseInt(m.ChatID, 10, 64); err == nil {
			if ros := r.d.roster(); ros != nil {
				if o, ok := ros.ByTelegramID(id); ok {
					return r.d.fromOperator(ctx, o, m)
				}
			}
		}
	}
	return r.people.Handle(ctx, m)
}

func say(format string, args ...any) []bot.Reply {
	return []bot.Reply{{Text: fmt.Sprintf(format, args...)}}
}

// fromOperator handles one message of an operator: a command, a Claim button, or words for
// the person of the operator's active case.
func (d *Desk) fromOperator(ctx context.Context, o Operator, m bot.Message) ([]bot.Reply, error) {
	if m.ID != "" {
		fresh, err := d.rdb.SetNX(ctx, d.opKey(o.ID, "seen:"+m.ID), 1, 24*time.Hour).Result()
		if err == nil && !fresh {
			return nil, bot.ErrDuplicate
		}
	}
	if id, ok := strings.CutPrefix(m.Button, "claim:"); ok {
		return d.claim(ctx, o, id)
	}
	words := strings.Fields(m.Text)
	if len(words) == 0 {
		return say(opHelp), nil
	}
	arg := func(i int) string {
		if i < len(words) {
			return strings.ToUpper(words[i])
		}
		return ""
	}
	switch strings.ToLower(words[0]) {
	case "/duty":
		return d.duty(ctx, o, strings.ToLower(arg(1)))
	case "/cases":
		return d.cases(ctx, o)
	case "/claim":
		return d.claim(ctx, o, arg(1))
	case "/release":
		return d.release(ctx, o, arg(1))
	case "/close":
		return d.close(ctx, o, arg(1), strings.ToLower(arg(2)))
	}
	if strings.HasPrefix(words[0], "/") {
		return say(opHelp), nil
	}
	return d.toPerson(ctx, o, m.Text)
}

func (d *Desk) duty(ctx context.Context, o Operator, onOff string) ([]bot.Reply, error) {
	if onOff != "on" && onOff != "off" {
		return say(opHelp), nil
	}
	r := d.roster()
	if err := d.rdb.Set(ctx, d.opKey(o.ID, "duty:"+r.Day(d.now())), onOff, 48*time.Hour).Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.onCall = nil // recount at once
	d.mu.Unlock()
	d.audit(ctx, "duty_"+onOff, "-", "operator", o.ID)
	if onOff == "on" {
		return say(opDutyOn), nil
	}
	return say(opDutyOff), nil
}

// cases lists the cases waiting and the operator's own.
func (d *Desk) cases(ctx context.Context, o Operator) ([]bot.Reply, error) {
	waiting, err := d.rdb.ZRange(ctx, d.global("waiting"), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	mine, err := d.rdb.SMembers(ctx, d.opKey(o.ID, "cases")).Result()
	if err != nil {
		return nil, err
	}
	sort.Strings(mine)
	var lines []string
	now := d.now()
	seen := map[string]bool{}
	for _, id := range append(waiting, mine...) {
		r, err := d.load(ctx, id)
		if err != nil || r == nil || seen[id] {
			continue
		}
		seen[id] = true
		var state string
		switch {
		case r.State == stateOpen:
			state = fmt.Sprintf("αναμονή %d′ · waiting", int(now.Sub(r.Created).Minutes()))
		case r.Operator == o.ID:
			state = "δική σου · yours"
		default:
			continue // someone else's: claimed a moment ago, or left behind in the sets
		}
		lines = append(lines, fmt.Sprintf("%s · επίπεδο/tier %d · %s · %s", id, r.Tier, r.Lang, state))
	}
	if len(lines) == 0 {
		return say(opNoCases), nil
	}
	return say("%s", strings.Join(lines, "\n")), nil
}

// claim gives a waiting case to o, if nobody was faster.
func (d *Desk) claim(ctx context.Context, o Operator, id string) ([]bot.Reply, error) {
	if id == "" {
		return say(opHelp), nil
	}
	held, err := d.rdb.SCard(ctx, d.opKey(o.ID, "cases")).Result()
	if err != nil {
		return nil, err
	}
	mine, _ := d.rdb.SIsMember(ctx, d.opKey(o.ID, "cases"), id).Result()
	if limit := max(o.MaxCases, 1); int(held) >= limit && !mine {
		return say(opFull, held, held), nil
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
		return say(opGone, id, id), nil
	case "taken":
		if res[1] == o.ID { // their own: make it the one their words go to
			if err := d.rdb.Set(ctx, d.opKey(o.ID, "active"), id, d.retention).Err(); err != nil {
				return nil, err
			}
			return say(opActive, id, id), nil
		}
		other, _ := d.operator(res[1])
		return say(opTaken, id, other.AliasIn("el"), id), nil
	}
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return say(opGone, id, id), err
	}
	pipe := d.rdb.Pipeline()
	pipe.SAdd(ctx, d.opKey(o.ID, "cases"), id)
	pipe.Expire(ctx, d.opKey(o.ID, "cases"), d.retention)
	pipe.Set(ctx, d.opKey(o.ID, "active"), id, d.retention)
	pipe.ZRem(ctx, d.global("waiting"), id)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	d.m.claimTime.Observe(now.Sub(r.Created).Seconds())
	d.audit(ctx, "claimed", id, "operator", o.ID, "alias", o.AliasIn("el"))
	d.tellMessage(ctx, r, "handoff_claimed", map[string]any{"Alias": o.AliasIn(r.Lang)})
	for _, other := range r.Notified {
		if other == o.ID {
			continue
		}
		if op, ok := d.operator(other); ok {
			_ = d.operators.Send(ctx, chatOf(op), say(opTakenBy, id, o.AliasIn("el"), id, o.AliasIn("en")))
		}
	}
	replies := say(opClaimed, id, o.AliasIn(r.Lang), id, id, o.AliasIn(r.Lang))
	// What the person wrote while waiting.
	if kept, err := d.transcript(ctx, id); err == nil && len(kept) > 0 {
		replies = append(replies, bot.Reply{Text: fmt.Sprintf("[%s] %s", id, strings.Join(kept, "\n"))})
	}
	return replies, nil
}

// claimFromRemoved gives back case id, held by operator gone who left the roster, and claims
// it for o; it returns what claimScript did.
func (d *Desk) claimFromRemoved(ctx context.Context, o Operator, id, gone string, now time.Time) ([]string, error) {
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

// transcript returns what the person wrote in a case, oldest first.
func (d *Desk) transcript(ctx context.Context, id string) ([]string, error) {
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, err
	}
	boxes, err := d.rdb.LRange(ctx, d.key(id, "log"), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range boxes {
		if msg, err := openData(key, []byte(b), "log"); err == nil && len(msg) > 0 && msg[0] == 'p' {
			out = append(out, string(msg[1:]))
		}
	}
	return out, nil
}

// held loads a case that o holds.
func (d *Desk) held(ctx context.Context, o Operator, id string) (*record, []bot.Reply, error) {
	r, err := d.load(ctx, id)
	switch {
	case err != nil:
		return nil, nil, err
	case r == nil:
		return nil, say(opGone, id, id), nil
	case r.State != stateClaimed || r.Operator != o.ID:
		return nil, say(opNotYours, id, id), nil
	}
	return r, nil, nil
}

func (d *Desk) release(ctx context.Context, o Operator, id string) ([]bot.Reply, error) {
	r, refusal, err := d.held(ctx, o, id)
	if r == nil {
		return refusal, err
	}
	back, err := d.giveBack(ctx, r, byOperator, true)
	if err != nil {
		return nil, err
	}
	if !back { // closed, or given back, a moment ago
		return say(opNotYours, id, id), nil
	}
	return say(opReleased, id, id), nil
}

func (d *Desk) close(ctx context.Context, o Operator, id, outcome string) ([]bot.Reply, error) {
	if !slices.Contains(outcomes, outcome) {
		return say(opOutcome), nil
	}
	r, refusal, err := d.held(ctx, o, id)
	if r == nil {
		return refusal, err
	}
	replies := []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_closed", nil)}}
	if d.convs != nil {
		if key, err := d.caseKey(ctx, id); err == nil {
			if addr, err := openData(key, r.Addr, "addr"); err == nil {
				more, err := d.convs.Goto(ctx, r.Channel, string(addr), d.afterClose)
				if err != nil {
					d.log.Warn("handoff: the person's conversation was not moved on", "case", id, "err", err)
				}
				if len(more) > 0 { // one message: the goodbye and the menu's question with its buttons
					more[0].Text = replies[0].Text + "\n\n" + more[0].Text
					replies = more
				}
			}
		}
	}
	if err := d.tell(ctx, r, replies); err != nil && !errors.Is(err, bot.ErrAway) { // kept for the page
		d.log.Warn("handoff: the person was not told of the close", "case", id, "err", err)
	}
	d.shred(ctx, r)
	d.audit(ctx, "closed", id, "operator", o.ID, "outcome", outcome)
	d.m.closed.WithLabelValues(outcome).Inc()
	return say(opClosed, id, outcome, id, outcome), nil
}

// toPerson relays an operator's words to the person of their active case, signed with the
// operator's alias in the person's language.
func (d *Desk) toPerson(ctx context.Context, o Operator, text string) ([]bot.Reply, error) {
	id, err := d.rdb.Get(ctx, d.opKey(o.ID, "active")).Result()
	if errors.Is(err, redis.Nil) {
		return say(opNoActive), nil
	}
	if err != nil {
		return nil, err
	}
	r, refusal, err := d.held(ctx, o, id)
	if r == nil {
		d.rdb.Del(ctx, d.opKey(o.ID, "active"))
		return refusal, err
	}
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, err
	}
	d.keep(ctx, id, key, "o"+text)
	err = d.tell(ctx, r, []bot.Reply{{Text: o.AliasIn(r.Lang) + ":\n" + text}})
	switch {
	case errors.Is(err, bot.ErrAway): // kept for the page, which is closed now
		d.audit(ctx, "relayed", id, "from", "operator", "operator", o.ID, "away", true)
		return say(opAway, id, id), nil
	case err != nil:
		return say(opPersonGone, id, id), nil
	}
	d.audit(ctx, "relayed", id, "from", "operator", "operator", o.ID)
	if n, _ := d.rdb.SCard(ctx, d.opKey(o.ID, "cases")).Result(); n > 1 {
		return say(opSentTo, id), nil
	}
	return nil, nil
}
