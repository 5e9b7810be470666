package handoff

// The person's side of a case, as the bot calls it (bot.Desk): Open a case, Relay the person's
// messages on (an emergency or the duress word making the case urgent first), Leave when they
// stop or wipe the conversation.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/stats"
)

// Open creates a case. It is written before anything else happens, then queued: if this
// process dies before the operators are told, another instance (or this one, restarted)
// takes the queued case, and the escalation schedule catches a case that was never queued.
func (d *Desk) Open(ctx context.Context, h bot.Handoff) (string, error) {
	now := d.now()
	id := newID()
	key := newCaseKey()
	p := newPacket(id, h, now)
	data, _ := json.Marshal(p)
	r := &record{ID: id, State: stateOpen, Channel: h.Channel, Lang: h.State.Lang, Tier: h.Tier, Reason: h.Reason,
		Created: now, Reassured: now, Packet: sealData(key, data, "packet"), Addr: sealData(key, []byte(h.ChatID), "addr"),
		Given: hotlines(h.Tier, p.Minor)}
	pipe := d.rdb.Pipeline()
	pipe.Set(ctx, d.key(id, "key"), d.keys.wrap(key, id), d.retention)
	pipe.HSet(ctx, d.key(id, "case"), r.fields())
	pipe.Expire(ctx, d.key(id, "case"), d.retention)
	pipe.ZAdd(ctx, d.global("waiting"), redis.Z{Score: float64(now.Add(d.waitFor(h.Tier)).UnixMilli()), Member: id})
	pipe.Expire(ctx, d.global("waiting"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("open case: %w", err)
	}
	d.audit(ctx, "created", id, "tier", h.Tier, "reason", h.Reason, "lang", h.State.Lang, "channel", h.Channel)
	err := d.rdb.XAdd(ctx, &redis.XAddArgs{Stream: d.global("queue"), MaxLen: 10_000, Approx: true, Values: []any{"case", id}}).Err()
	if err != nil {
		d.log.Warn("handoff: case not queued; the escalation schedule will notify it", "case", id, "err", err)
	}
	d.rdb.Expire(ctx, d.global("queue"), d.retention)
	d.m.opened.WithLabelValues(strconv.Itoa(h.Tier)).Inc()
	return id, nil
}

func (d *Desk) waitFor(tier int) time.Duration {
	if w, ok := d.wait[tier]; ok {
		return w
	}
	return 10 * time.Minute
}

// Relay passes a person's message in an open case on. See bot.Desk.
func (d *Desk) Relay(ctx context.Context, id string, m bot.Message, alert string) ([]bot.Reply, bool, error) {
	now := d.now()
	flat, err := noteScript.Run(ctx, d.rdb, []string{d.key(id, "case")}, now.UnixMilli()).StringSlice()
	if err != nil {
		return nil, false, err
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		h[flat[i]] = flat[i+1]
	}
	r := parseRecord(id, h)
	if r == nil { // closed, or expired
		return nil, false, nil
	}
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, false, err
	}
	switch {
	case m.Media != "":
		d.keep(ctx, id, key, entry{Who: "m", Text: m.Media + "|" + m.Text})
	case m.Text != "":
		d.keep(ctx, id, key, entry{Who: "p", Text: m.Text})
	}
	if given := numbersOf(alert); len(given) > 0 {
		r.Given = addNumbers(r.Given, given)
		_ = d.save(ctx, r, "given")
	}
	d.raise(ctx, r, alert)
	if r.State == stateClaimed {
		if o, ok := d.operator(r.Operator); ok {
			return d.relayTo(ctx, o, r, m, alert)
		}
		// This instance may be the first to see that the operator left the roster: the case
		// goes back to those on call (urgent, if just raised), and the message waits in its log
		// for whoever claims it.
		back, err := d.giveBack(ctx, r, operatorRemoved, false)
		if err != nil {
			return nil, true, fmt.Errorf("release the case of a removed operator: %w", err)
		}
		if back {
			return d.released(r), true, nil
		}
		// Another instance gave it back a moment ago, and told the person.
	}
	if alert != "" {
		return d.alerted(r, alert, d.alert(ctx, r, alert)), true, nil
	}
	if m.Media != "" { // nobody to pass it to yet: Faros keeps no photo or voice
		d.audit(ctx, "media_not_passed", id, "media", m.Media, "why", "waiting")
		return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_media_waiting", nil)}}, true, nil
	}
	if d.poke != nil { // the desks show how many messages wait (alerts and media poke as they go)
		d.poke("", id, false, false)
	}
	if now.Sub(r.Reassured) < d.reassure || r.Duress {
		return nil, true, nil
	}
	r.Reassured = now
	_ = d.save(ctx, r, "reassured")
	return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_reassure", nil)}}, true, nil
}

// raise makes a case urgent (tier 3) after an emergency or the duress word, waiting or
// claimed; after the duress word Faros never writes to the person first again.
func (d *Desk) raise(ctx context.Context, r *record, alert string) {
	if alert != "emergency" && alert != "duress" {
		return
	}
	fields := []string{"duress"}
	r.Duress = r.Duress || alert == "duress"
	if r.Tier < 3 {
		r.Tier, r.Reason = 3, alert
		r.History = append(r.History, historyEntry(histRaised, d.now(), alert))
		fields = append(fields, "tier", "reason", "history")
		d.audit(ctx, "raised", r.ID, "tier", 3, "alert", alert)
	}
	if err := d.save(ctx, r, fields...); err != nil {
		d.log.Warn("handoff: a raised case not saved", "case", r.ID, "err", err)
	}
}

// relayTo passes a person's message to o, who holds the case: words with the case's id,
// media copied from the person's chat (Faros keeps none), an alert loud and first. When o's
// chat cannot be reached, the case goes to the others on call at once.
func (d *Desk) relayTo(ctx context.Context, o roster.Operator, r *record, m bot.Message, alert string) ([]bot.Reply, bool, error) {
	id := r.ID
	var replies []bot.Reply
	if alert != "" {
		replies = append(replies, bot.Reply{Text: alertText(id, alert), Urgent: true})
	}
	switch {
	case m.Media == "":
		replies = append(replies, bot.Reply{Text: fmt.Sprintf("[%s] %s", id, m.Text), Shown: true})
	case copiable(r, o, m):
		replies = append(replies, bot.Reply{Text: fmt.Sprintf(opMedia, id, name(mediaNames, m.Media))})
	}
	for i := range replies {
		replies[i].Ring, replies[i].Tag = true, id
	}
	d.watchFor(ctx, r, alert != "")
	if alert != "" && alertRank[alert] >= alertRank[r.AlertKind] { // for the desk's board
		r.Alerted, r.AlertKind = d.now(), alert
		_ = d.save(ctx, r, "alerted", "alertkind")
	}
	if err := d.send(ctx, o, replies); err != nil {
		if ctx.Err() != nil { // stopping: the message stays queued for the counsellor
			return nil, true, err
		}
		d.log.Warn("handoff: the operator's chat was not reached; the case goes to the others", "case", id, "err", err)
		d.audit(ctx, "not_delivered", id, "from", "person", "operator", o.ID)
		back, err := d.giveBack(ctx, r, unreachable, false)
		if err != nil {
			return nil, true, fmt.Errorf("give back the case of an unreachable operator: %w", err)
		}
		if back {
			return d.released(r), true, nil
		}
		return nil, true, nil
	}
	d.audit(ctx, "relayed", id, "from", "person", "alert", alert, "media", m.Media)
	if m.Media == "" {
		return d.alerted(r, alert, 1), true, nil
	}
	err := errors.New("no message to copy")
	if copiable(r, o, m) {
		var p Phones
		if p, err = d.phones(o.Address.Channel); err == nil {
			err = p.Copy(ctx, o.Address.ID, m.ChatID, m.MsgID, id)
		}
	}
	if err == nil {
		return nil, true, nil
	}
	d.log.Warn("handoff: the person's media was not copied to the operator", "case", id, "media", m.Media, "err", err)
	d.audit(ctx, "media_not_passed", id, "media", m.Media, "why", "copy_failed")
	lost := fmt.Sprintf(opMediaLost, id, name(mediaNames, m.Media), name(mediaNames, m.Media))
	_ = d.send(ctx, o, []bot.Reply{{Text: lost, Ring: true, Tag: id}})
	return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_media_failed", nil)}}, true, nil
}

// copiable reports whether the person's media m in case r can be copied to operator o: a
// channel copies a message of one of its chats into another (Telegram's copyMessage), so the
// person and the operator must be on the same channel. Faros itself keeps no media.
func copiable(r *record, o roster.Operator, m bot.Message) bool {
	return m.MsgID != "" && r.Channel == o.Address.Channel
}

// released is what the person of a case just given back is told, in Relay's answer: another
// counsellor will write. Nothing when it was claimed again meanwhile (they were just told
// "X is here"), or after the duress word.
func (d *Desk) released(r *record) []bot.Reply {
	if r.State != stateOpen || r.Duress {
		return nil
	}
	return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_released", nil)}}
}

// watchFor schedules the watchdog of a claimed case whose person now waits for an answer: a
// first wait keeps its time; an alert brings it forward to the tier's. (After the duress word
// too: a give-back then tells the person nothing, see tellMessage.)
func (d *Desk) watchFor(ctx context.Context, r *record, alert bool) {
	z := redis.Z{Score: float64(d.now().Add(d.answerFor(r.Tier)).UnixMilli()), Member: r.ID}
	pipe := d.rdb.Pipeline()
	if alert {
		pipe.ZAdd(ctx, d.global("silent"), z)
	} else {
		pipe.ZAddNX(ctx, d.global("silent"), z)
	}
	pipe.Expire(ctx, d.global("silent"), d.retention)
	_, _ = pipe.Exec(ctx)
}

// alert tells everyone a waiting case went to that the person called for help, loudly: nobody
// holds the case yet. The same call (or a lesser one) repeated within a minute is not sent
// again: they were just told. It returns how many know.
func (d *Desk) alert(ctx context.Context, r *record, alert string) int {
	if alert == "" {
		return 0
	}
	now := d.now()
	if now.Sub(r.Alerted) < time.Minute && alertRank[alert] <= alertRank[r.AlertKind] && len(r.Notified) > 0 {
		return len(r.Notified)
	}
	r.Alerted, r.AlertKind = now, alert
	_ = d.save(ctx, r, "alerted", "alertkind")
	return d.notify(ctx, r, max(r.Level, 1), true, alertText(r.ID, alert))
}

// alertRank orders the calls for help: a graver one is always sent.
var alertRank = map[string]int{"help": 1, "emergency": 2, "duress": 3}

// alerted is what the person is told after calling for help in a case: that a counsellor
// knows, when one was told. Never after the duress word: its answer must look like nothing.
func (d *Desk) alerted(r *record, alert string, told int) []bot.Reply {
	if told == 0 || alert == "duress" || alert == "" {
		return nil
	}
	return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_alerted", nil)}}
}

// numbersOf are the numbers the person is shown with an alert (bot.Bot.relay).
func numbersOf(alert string) []string {
	switch alert {
	case "emergency":
		return []string{"112", "100", "1109"}
	case "help":
		return []string{"112", "100", "1109", "197", "15900", "1056"}
	}
	return nil
}

// addNumbers adds to numbers a those of b it lacks.
func addNumbers(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func (d *Desk) answerFor(tier int) time.Duration {
	if w, ok := d.answer[tier]; ok {
		return w
	}
	return 15 * time.Minute
}

// Leave ends a case because the person stopped, or wiped the conversation: the operator is
// told which (a wipe may be a danger sign), and the case is shredded.
func (d *Desk) Leave(ctx context.Context, id string, wiped bool) error {
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return err
	}
	if o, ok := d.operator(r.Operator); ok && r.State == stateClaimed {
		text, urgent := fmt.Sprintf(opPersonLeft, id), false
		if wiped {
			text, urgent = fmt.Sprintf(opPersonWipe, id), true
		}
		// The person's stop or wipe does not wait for the counsellor's phone.
		d.later(func(ctx context.Context) {
			_ = d.send(ctx, o, []bot.Reply{{Text: text, Ring: true, Urgent: urgent}})
		})
	}
	d.shred(ctx, r)
	how := "person_left"
	if wiped {
		how = "person_wiped"
	}
	d.audit(ctx, how, id, "operator", r.Operator, "state", r.State)
	d.m.closed.WithLabelValues(how).Inc()
	d.count("closed", func(s *stats.Counter) error { return s.Closed(ctx, how) })
	return nil
}
