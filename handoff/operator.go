package handoff

// An operator's messages: Route tells them from people's, fromOperator reads a command and
// pressed a button; and the commands that only show or set something (/duty, /cases, /stats).
// Claiming is in claim.go, closing in close.go, where words go in words.go.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/stats"
)

// Route returns a bot.Handler that gives the messages of the roster's operators to the desk,
// and every other message to people. An operator's message is one from their roster address:
// its channel and chat id (roster.Roster.ByAddress), whatever the channel. Operators' messages
// never reach the flows; to anyone else, operator commands are unknown words.
func (d *Desk) Route(people bot.Handler) bot.Handler { return router{d: d, people: people} }

type router struct {
	d      *Desk
	people bot.Handler
}

func (r router) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	if ros := r.d.roster(); ros != nil {
		if o, ok := ros.ByAddress(m.Channel, m.ChatID); ok {
			replies, err := r.d.fromOperator(ctx, o, m)
			if err != nil && !errors.Is(err, bot.ErrDuplicate) {
				// The counsellor must know their words or command did not go through.
				r.d.log.Error("handoff: an operator's message failed", "operator", o.ID, "err", err)
				return say("", opTechnical), nil
			}
			return replies, err
		}
	}
	return r.people.Handle(ctx, m)
}

// say is one message to an operator; with a case id it is tagged with it, so that a reply to
// it goes to that case and it is deleted when the case closes.
func say(id, format string, args ...any) []bot.Reply {
	return []bot.Reply{{Text: fmt.Sprintf(format, args...), Tag: id}}
}

// fromOperator handles one message of an operator: a button, a command, or words for a person.
func (d *Desk) fromOperator(ctx context.Context, o roster.Operator, m bot.Message) ([]bot.Reply, error) {
	if m.ID != "" {
		fresh, err := d.rdb.SetNX(ctx, d.opKey(o.ID, "seen:"+m.ID), 1, 24*time.Hour).Result()
		if err == nil && !fresh {
			return nil, bot.ErrDuplicate
		}
	}
	if m.Edited {
		return say("", opEdited), nil
	}
	if m.Button != "" {
		return d.pressed(ctx, o, strings.Split(m.Button, ":"))
	}
	if m.Media != "" {
		return say("", opOnlyText), nil
	}
	words := strings.Fields(m.Text)
	if len(words) == 0 {
		return say("", opHelp), nil
	}
	arg := func(i int) string {
		if i < len(words) {
			return strings.ToUpper(words[i])
		}
		return ""
	}
	command := strings.ToLower(words[0])
	switch command {
	case "/duty":
		return d.duty(ctx, o, strings.ToLower(arg(1)))
	case "/cases":
		return d.cases(ctx, o)
	case "/stats":
		return d.statsFor(ctx)
	case "/claim":
		return d.claim(ctx, o, arg(1))
	case "/release", "/close", "/note":
		id, rest, err := d.about(ctx, o, m, words)
		switch {
		case err != nil:
			return nil, err
		case id == "":
			return say("", opWhichCase), nil
		case command == "/release":
			return d.release(ctx, o, id, byOperator)
		case command == "/close":
			return d.askOutcome(ctx, o, id, strings.ToLower(strings.TrimSpace(rest)))
		case rest == "":
			return say("", opNoteHow), nil
		}
		return d.note(ctx, o, id, rest, m.MsgID)
	}
	if strings.HasPrefix(words[0], "/") {
		return say("", opHelp), nil
	}
	return d.words(ctx, o, m)
}

// pressed handles a button of an operator's message: "claim:ID", "to:N:ID" (send held words
// N), "release:ID", "outcome:ID:OUTCOME", "ref:ID:I", "closeok:ID:OUTCOME[:I]",
// "cancel".
func (d *Desk) pressed(ctx context.Context, o roster.Operator, b []string) ([]bot.Reply, error) {
	at := func(i int) string {
		if i < len(b) {
			return b[i]
		}
		return ""
	}
	id := at(1)
	switch at(0) {
	case "claim":
		return d.claim(ctx, o, id)
	case "to":
		id = at(2)
		if r, refusal, err := d.heldBy(ctx, o, id); r == nil { // the words stay held for another case
			return refusal, err
		}
		h, ok, err := d.unhold(ctx, o, at(1))
		if err != nil || !ok {
			return say("", opHeldGone), err
		}
		replies, err := d.toPerson(ctx, o, id, h.Text, h.MsgID)
		if err == nil {
			d.solely(ctx, o) // the counsellor chose: with one case left, their words go to it
		}
		return replies, err
	case "release":
		return d.release(ctx, o, id, byOperator)
	case "outcome":
		return d.askOutcome(ctx, o, id, at(2))
	case "ref":
		r, refusal, err := d.heldBy(ctx, o, id)
		if r == nil {
			return refusal, err
		}
		return d.confirmClose(r, "referred", at(2)), nil
	case "closeok":
		return d.close(ctx, o, id, at(2), at(3))
	case "cancel":
		return say("", opCancelled), nil
	}
	return say("", opHelp), nil
}

func (d *Desk) duty(ctx context.Context, o roster.Operator, onOff string) ([]bot.Reply, error) {
	if onOff != "on" && onOff != "off" {
		return say("", opHelp), nil
	}
	r := d.roster()
	if err := d.rdb.Set(ctx, d.opKey(o.ID, "duty:"+r.Day(d.now())), onOff, 48*time.Hour).Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.onCall = nil // recount at once, and keep no count read before this
	d.dutyGen++
	d.mu.Unlock()
	d.audit(ctx, "duty_"+onOff, "-", "operator", o.ID)
	if onOff == "on" {
		return say("", opDutyOn), nil
	}
	replies := say("", opDutyOff)
	// Going off duty does not give cases back: the operator may be finishing them. But their
	// people's messages still come here, so they are shown what they hold.
	mine, err := d.mine(ctx, o)
	if err != nil || len(mine) == 0 {
		return replies, err
	}
	still := bot.Reply{Text: opStillHeld}
	for _, r := range mine {
		still.Buttons = append(still.Buttons, bot.Button{Data: "release:" + r.ID,
			Label: fmt.Sprintf("↩ Άφησε · release [%s] %s", r.ID, d.langName(r.Lang))})
	}
	return append(replies, still), nil
}

// mine returns the cases o holds, oldest claim first.
func (d *Desk) mine(ctx context.Context, o roster.Operator) ([]*record, error) {
	ids, err := d.rdb.SMembers(ctx, d.opKey(o.ID, "cases")).Result()
	if err != nil {
		return nil, err
	}
	var out []*record
	var stale []any
	for _, id := range ids {
		r, err := d.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if r != nil && (r.State == stateClaimed || r.State == stateClosing) && r.Operator == o.ID {
			out = append(out, r)
		} else if r == nil { // expired while held
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		d.rdb.SRem(ctx, d.opKey(o.ID, "cases"), stale...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Claimed.Before(out[j].Claimed) })
	return out, nil
}

// cases lists the cases waiting and the operator's own.
func (d *Desk) cases(ctx context.Context, o roster.Operator) ([]bot.Reply, error) {
	waiting, err := d.rdb.ZRange(ctx, d.global("waiting"), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	mine, err := d.mine(ctx, o)
	if err != nil {
		return nil, err
	}
	var lines []string
	now := d.now()
	onCall := d.isOnCall(ctx, o)
	for _, id := range waiting {
		r, err := d.load(ctx, id)
		if err != nil || r == nil || r.State != stateOpen || !onCall && !slices.Contains(r.Notified, o.ID) {
			continue
		}
		lines = append(lines, fmt.Sprintf("[%s] επίπεδο/tier %d · %s · αναμονή/waiting %s", id, r.Tier, d.langName(r.Lang), minutes(now.Sub(r.Created))))
	}
	for _, r := range mine {
		lines = append(lines, fmt.Sprintf("[%s] επίπεδο/tier %d · %s · δική σου/yours · %s", r.ID, r.Tier, d.langName(r.Lang), lastHeard(r, now)))
	}
	if len(lines) == 0 {
		return say("", opNoCases), nil
	}
	return say("", "%s", strings.Join(lines, "\n")), nil
}

// lastHeard says when the person of a case last wrote.
func lastHeard(r *record, now time.Time) string {
	if r.Heard.IsZero() {
		return "δεν έχει γράψει ακόμα · no message yet"
	}
	return "τελευταίο μήνυμα πριν " + minutes(now.Sub(r.Heard)) + " · last " + minutes(now.Sub(r.Heard))
}

// isOnCall reports whether o is on call now. An operator off call sees and claims only the
// cases sent to them (a backup the ladder reached, a case notified before /duty off): a stolen
// phone of someone off duty reads nothing new.
func (d *Desk) isOnCall(ctx context.Context, o roster.Operator) bool {
	return slices.ContainsFunc(d.onCallNow(ctx), func(x roster.Operator) bool { return x.ID == o.ID })
}

// statsFor answers /stats: the last four weeks' counts in Greek, every count under 5 (and any
// that would give one away) hidden; nothing finer than a week, nothing about anyone.
func (d *Desk) statsFor(ctx context.Context) ([]bot.Reply, error) {
	if d.stats == nil {
		return say("", opNoStats), nil
	}
	var names stats.Names
	if d.statsNames != nil {
		names = d.statsNames()
	}
	text, err := d.stats.ForOperators(ctx, 5, names)
	if err != nil {
		return nil, err
	}
	return say("", "%s", text), nil
}
