package handoff

// Closing a case: the outcome asked for, the referral chosen, the close confirmed, and then the
// person's goodbye and the case shredded, once across instances.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/stats"
)

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
