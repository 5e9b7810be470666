package handoff

// Where an operator's words go: the case a command or a message is about (the message it
// replies to, else the only case held), relayed to the person signed with the operator's alias,
// or kept as a note in the case's log.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
)

// about finds the case a command (words) is about, and the rest of its text: the case its first
// argument names; else the case of the message it replies to; else the operator's only case.
// An argument is a case id when it is one (8 of A–Z and 2–7) written in capitals or with a
// digit, or names an open case: "/close referred" and "/note Employer..." are not ids.
func (d *Desk) about(ctx context.Context, o roster.Operator, m bot.Message, words []string) (id, rest string, err error) {
	rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m.Text), words[0]))
	if len(words) > 1 {
		w := words[1]
		if up := strings.ToUpper(w); isCaseID(up) {
			r, err := d.load(ctx, up)
			if err != nil {
				return "", "", err
			}
			if r != nil || w == up || strings.ContainsAny(w, "234567") {
				return up, strings.TrimSpace(strings.TrimPrefix(rest, w)), nil
			}
		}
	}
	if m.ReplyTo != "" { // a reply to a message of no open case names none: ask
		return d.caseOfReply(ctx, o, m.ReplyTo), rest, nil
	}
	mine, err := d.mine(ctx, o)
	if err != nil || len(mine) != 1 || d.sole(ctx, o) != mine[0].ID {
		return "", rest, err
	}
	return mine[0].ID, rest, nil
}

// isCaseID reports whether s looks like a case id: 8 of A–Z and 2–7.
func isCaseID(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// nowTo adds to replies, when o holds one case only, that their words go to it.
func (d *Desk) nowTo(ctx context.Context, o roster.Operator, replies []bot.Reply) ([]bot.Reply, error) {
	if id := d.solely(ctx, o); id != "" {
		replies = append(replies, say(id, opNowTo, id, id)...)
	}
	return replies, nil
}

// sole returns the case o's words go to without a reply (see solely); "" if none.
func (d *Desk) sole(ctx context.Context, o roster.Operator) string {
	return d.rdb.Get(ctx, d.opKey(o.ID, "sole")).Val()
}

// solely records, when o holds one case only after something they did (a claim, a release, a
// close, a choice of case), that their words go to it, and returns it. A case that becomes
// their only one otherwise (its person stopped, the watchdog took the other) is not theirs to
// write to without a reply or a choice: they may be writing to the other person.
func (d *Desk) solely(ctx context.Context, o roster.Operator) string {
	mine, err := d.mine(ctx, o)
	if err != nil {
		return ""
	}
	if len(mine) != 1 {
		d.rdb.Del(ctx, d.opKey(o.ID, "sole"))
		return ""
	}
	d.rdb.Set(ctx, d.opKey(o.ID, "sole"), mine[0].ID, d.retention)
	return mine[0].ID
}

// unsole forgets o's only case: a case given to them, or taken from them, by someone else is
// not theirs to write to without a reply or a choice.
func (d *Desk) unsole(ctx context.Context, o roster.Operator) {
	d.rdb.Del(ctx, d.opKey(o.ID, "sole"))
}

// words sends an operator's words to the right person: the case of the message they replied
// to, else their only case. Holding several, words that reply to nothing are kept back and the
// operator chooses the case: a word of safety advice must never reach the wrong person.
func (d *Desk) words(ctx context.Context, o roster.Operator, m bot.Message) ([]bot.Reply, error) {
	if id := d.caseOfReply(ctx, o, m.ReplyTo); id != "" {
		return d.toPerson(ctx, o, id, m.Text, m.MsgID)
	}
	mine, err := d.mine(ctx, o)
	switch {
	case err != nil:
		return nil, err
	case len(mine) == 0:
		return say("", opNoCase), nil
	case len(mine) == 1 && m.ReplyTo == "" && d.sole(ctx, o) == mine[0].ID:
		return d.toPerson(ctx, o, mine[0].ID, m.Text, m.MsgID)
	}
	// Several cases, or a reply to a message of no open case (a closed one's, a notice): the
	// operator says which case.
	n, err := d.hold(ctx, o, held{Text: m.Text, MsgID: m.MsgID})
	if err != nil {
		return nil, err
	}
	q := bot.Reply{Text: opWhich}
	if m.ReplyTo != "" {
		q.Text = opReplyUnknown
	}
	now := d.now()
	sort.Slice(mine, func(i, j int) bool { return mine[i].Heard.After(mine[j].Heard) }) // the latest first
	for _, r := range mine {
		q.Buttons = append(q.Buttons, bot.Button{Data: "to:" + n + ":" + r.ID,
			Label: fmt.Sprintf("→ [%s] %s · %s", r.ID, d.langName(r.Lang), lastHeard(r, now))})
	}
	return []bot.Reply{q}, nil
}

// toPerson relays an operator's words to the person of case id, which they must hold, signed
// with the operator's alias in the person's language.
func (d *Desk) toPerson(ctx context.Context, o roster.Operator, id, text, msgID string) ([]bot.Reply, error) {
	r, refusal, err := d.logged(ctx, o, id, "o", text, msgID)
	if r == nil {
		return refusal, err
	}
	err = d.tell(ctx, r, []bot.Reply{{Text: o.AliasIn(r.Lang) + ":\n" + text}})
	switch {
	case errors.Is(err, bot.ErrAway): // kept for the page, which is closed now
		d.answered(ctx, r)
		d.audit(ctx, "relayed", id, "from", "operator", "operator", o.ID, "away", true)
		return say(id, opAway, id), nil
	case err != nil:
		d.audit(ctx, "not_delivered", id, "from", "operator", "operator", o.ID)
		return say(id, opPersonGone, id), nil
	}
	d.answered(ctx, r)
	d.audit(ctx, "relayed", id, "from", "operator", "operator", o.ID)
	if n, _ := d.rdb.SCard(ctx, d.opKey(o.ID, "cases")).Result(); n > 1 {
		return say(id, opSentTo, id), nil
	}
	return nil, nil
}

// answered stops the watchdog of a case whose operator wrote.
func (d *Desk) answered(ctx context.Context, r *record) {
	d.rdb.ZRem(ctx, d.global("silent"), r.ID)
	if r.Nudged != 0 {
		r.Nudged = 0
		_ = d.save(ctx, r, "nudged")
	}
}

// note keeps an operator's internal note in the case's log, for whoever holds it next.
func (d *Desk) note(ctx context.Context, o roster.Operator, id, text, msgID string) ([]bot.Reply, error) {
	r, refusal, err := d.logged(ctx, o, id, "n", text, msgID)
	if r == nil {
		return refusal, err
	}
	d.audit(ctx, "noted", id, "operator", o.ID)
	return say(id, opNote, id), nil
}

// logged keeps what operator o wrote in case id, which they must hold, in the case's log (who:
// "o" words for the person, "n" a note), and the id of their message (msgID), which is deleted
// from their chat with the case. It returns the case, or what o is told instead.
func (d *Desk) logged(ctx context.Context, o roster.Operator, id, who, text, msgID string) (*record, []bot.Reply, error) {
	r, refusal, err := d.heldBy(ctx, o, id)
	if r == nil {
		return nil, refusal, err
	}
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d.keep(ctx, id, key, entry{Who: who, By: o.AliasIn("el"), Text: text})
	if msgID != "" {
		d.phoned(ctx, o, id, []string{msgID})
	}
	return r, nil, nil
}
