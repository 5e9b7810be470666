package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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
			return d.release(ctx, o, id)
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
		return d.release(ctx, o, id)
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
	d.onCall = nil // recount at once
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
		replies = append(replies, bot.Reply{Text: brief, Tag: id})
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

func (d *Desk) release(ctx context.Context, o roster.Operator, id string) ([]bot.Reply, error) {
	r, refusal, err := d.heldBy(ctx, o, id)
	if r == nil {
		return refusal, err
	}
	back, err := d.giveBack(ctx, r, byOperator, true)
	if err != nil {
		return nil, err
	}
	if !back { // closed, or given back, a moment ago
		return say("", opNotYours, id), nil
	}
	return d.nowTo(ctx, o, say("", opReleased, id))
}

// notClosing says why case id did not close: it is closing already, it is gone, or not o's.
func (d *Desk) notClosing(ctx context.Context, o roster.Operator, id string, err error) ([]bot.Reply, error) {
	if err != nil {
		return nil, err
	}
	r, err := d.load(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return say("", opGone, id, id), nil
	case r.State == stateClosing && r.Operator == o.ID:
		return say("", opClosing, id), nil
	}
	return say("", opNotYours, id), nil
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

// askOutcome asks how case id closes (outcome ""), or, for "referred", to whom, or confirms.
func (d *Desk) askOutcome(ctx context.Context, o roster.Operator, id, outcome string) ([]bot.Reply, error) {
	r, refusal, err := d.heldBy(ctx, o, id)
	if r == nil {
		return refusal, err
	}
	switch {
	case outcome == "referred":
		q := bot.Reply{Text: fmt.Sprintf(opReferQ, id), Tag: id}
		for i, ref := range d.referrals() {
			q.Buttons = append(q.Buttons, bot.Button{Data: fmt.Sprintf("ref:%s:%d", id, i), Label: ref})
		}
		return []bot.Reply{q}, nil
	case slices.Contains(outcomes, outcome):
		return d.confirmClose(r, outcome, ""), nil
	}
	q := bot.Reply{Text: fmt.Sprintf(opOutcomeQ, id), Tag: id}
	for _, out := range outcomes {
		q.Buttons = append(q.Buttons, bot.Button{Data: "outcome:" + id + ":" + out, Label: outcomeNames[out] + " · " + out})
	}
	return []bot.Reply{q}, nil
}

func (d *Desk) referrals() []string {
	if r := d.roster(); r != nil {
		return r.Referrals()
	}
	return roster.DefaultReferrals()
}

// confirmClose asks to confirm closing case r with outcome (and referral ref, an index of the
// referrals).
func (d *Desk) confirmClose(r *record, outcome, ref string) []bot.Reply {
	label := outcomeNames[outcome]
	if to, ok := d.referral(ref); ok {
		label += ": " + to
	}
	data := "closeok:" + r.ID + ":" + outcome
	if ref != "" {
		data += ":" + ref
	}
	confirm := opConfirm
	switch {
	case r.Duress:
		confirm = opConfirmDuress
	case r.Spoke == 0:
		confirm = opConfirmQuiet
	}
	return []bot.Reply{{Text: fmt.Sprintf(confirm, r.ID, label, outcome), Tag: r.ID, Buttons: []bot.Button{
		{Data: data, Label: "✔ Κλείσιμο · close [" + r.ID + "]"}, {Data: "cancel", Label: "✖ Άκυρο · cancel"}}}}
}

// referral returns the referral of index ref, if any.
func (d *Desk) referral(ref string) (string, bool) {
	i, err := strconv.Atoi(ref)
	refs := d.referrals()
	if err != nil || i < 0 || i >= len(refs) {
		return "", false
	}
	return refs[i], true
}

// closings are the goodbyes the person gets, by outcome; the others get handoff_closed.
var closings = map[string]string{"referred": "handoff_closed_referred", "no_contact": "handoff_closed_no_contact"}

func (d *Desk) close(ctx context.Context, o roster.Operator, id, outcome, ref string) ([]bot.Reply, error) {
	if !slices.Contains(outcomes, outcome) {
		return d.askOutcome(ctx, o, id, "")
	}
	to, referred := d.referral(ref)
	if outcome == "referred" && !referred {
		return d.askOutcome(ctx, o, id, outcome)
	}
	// One close only, also when the confirmation is pressed twice or reaches two instances.
	won, err := closingScript.Run(ctx, d.rdb, []string{d.key(id, "case")}, o.ID, d.now().UnixMilli()).Bool()
	if err != nil || !won {
		return d.notClosing(ctx, o, id, err)
	}
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return say("", opGone, id, id), err
	}
	// Once begun, the close is finished even if the counsellor's request ends (a webhook's
	// connection, a shutdown): a case half closed would reach nobody.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var replies []bot.Reply
	msg := closings[outcome]
	if msg == "" {
		msg = "handoff_closed"
	}
	replies = []bot.Reply{{Text: d.catalog().Render(r.Lang, msg, nil)}}
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
	// A person who never wrote in the case, or who typed the duress word, gets no goodbye: a
	// message out of nowhere could expose them to whoever holds the phone now.
	goodbye := r.Spoke > 0 && !r.Duress
	if goodbye {
		if err := d.tell(ctx, r, replies); err != nil && !errors.Is(err, bot.ErrAway) { // kept for the page
			d.log.Warn("handoff: the person was not told of the close", "case", id, "err", err)
		}
	}
	d.shred(ctx, r)
	d.audit(ctx, "closed", id, "operator", o.ID, "outcome", outcome, "referred_to", to, "goodbye", goodbye)
	d.m.closed.WithLabelValues(outcome).Inc()
	d.count("closed", func(s *stats.Counter) error { return s.Closed(ctx, outcome) })
	label := outcomeNames[outcome]
	if referred {
		label += ": " + to
	}
	return d.nowTo(ctx, o, say("", opClosed, id, label, outcome))
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

// langName is a language's name for counsellors, in Greek: its locale file's language_name_el,
// or its code for a language the content no longer has.
func (d *Desk) langName(lang string) string {
	if c := d.catalog(); c != nil && slices.Contains(c.Languages(), lang) {
		return c.Render(lang, "language_name_el", nil)
	}
	return lang
}

// brief renders case r's packet for operator to.
func (d *Desk) brief(ctx context.Context, r *record, to roster.Operator, codeword bool) (string, error) {
	p, err := d.packetOf(ctx, r)
	if err != nil {
		return "", err
	}
	return d.render(p, r, to, codeword), nil
}

// packetOf opens case r's sealed packet.
func (d *Desk) packetOf(ctx context.Context, r *record) (packet, error) {
	var p packet
	key, err := d.caseKey(ctx, r.ID)
	if err != nil {
		return p, err
	}
	data, err := openData(key, r.Packet, "packet")
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	return p, err
}

// render is packet p of case r as operator to reads it now.
func (d *Desk) render(p packet, r *record, to roster.Operator, codeword bool) string {
	return view{p: p, r: r, to: to, loc: d.location(), now: d.now(), codeword: codeword, lang: d.langName(p.Lang)}.render()
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
