package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/stats"
)

// A conversation with a counsellor: relaying the person's messages to the desk while a case
// is open, opening the case, and going back to the flows when it closes.

// relay handles a message while the person is in a case with an operator. Typed text (and
// media) goes to the operator. An emergency word gets the emergency numbers and the desk's
// word that a counsellor was alerted, without the flows: they would offer a counsellor again.
// Commands, buttons, help words and the duress word go to the flows as well (done false), the
// operator being alerted to a call for help. When the case is over, the flows take over.
func (b *Bot) relay(ctx context.Context, c *Content, s *session, m Message) (replies []Reply, done bool) {
	if b.desk == nil {
		s.Case = ""
		return nil, false
	}
	alert := ""
	if m.Button != "" {
		return nil, false
	}
	switch command, said := dialog.Command(m.Text), c.Engine.Signals(m.Text); {
	case command == "help":
		alert = "help"
	case command != "":
		return nil, false // /stop, /wipe and the others: the flows, and Leave on their End
	case said.Duress:
		alert = "duress" // the flows answer innocently
	case said.Emergency:
		alert = "emergency"
	case said.Help && len(strings.Fields(m.Text)) <= 3:
		// "help", "need help!": the numbers, and the counsellor alerted. A sentence such as
		// "thanks for your help" is words for the counsellor only.
		alert = "help"
	}
	replies, ok, err := b.desk.Relay(ctx, s.Case, m, alert)
	if err != nil {
		b.m.errors.WithLabelValues("handoff").Inc()
		b.log.Error("handle: relay to the operator failed", "channel", m.Channel, "err", err)
		if alert == "duress" {
			return nil, false // someone may be watching: the flows' innocent answer, never the numbers
		}
		return b.offline(s.State.Lang), true
	}
	if !ok {
		s.Case = ""
		return nil, false
	}
	switch alert {
	case "":
		return replies, true
	case "duress":
		return nil, false // someone may be watching: the innocent answer only
	case "emergency":
		return joined([]Reply{emergencyNumbers(c, s.State)}, replies), true
	}
	return replies, false // the help flow's numbers, then the desk's word of the alert
}

// joined is replies then more, as few messages as can be: texts without buttons join the
// first reply of the two, so that a person in a hurry reads one message.
func joined(replies, more []Reply) []Reply {
	out := slices.Clone(replies)
	for _, r := range more {
		if len(out) == 0 || len(r.Buttons) > 0 {
			out = append(out, r)
			continue
		}
		out[0].Text += "\n\n" + r.Text
		out[0].Urgent = out[0].Urgent || r.Urgent
	}
	return out
}

// emergencyNumbers is the emergency flow's first words, without its offer of a counsellor:
// the numbers, and the children's line for a possible minor, as one urgent reply.
func emergencyNumbers(c *Content, st dialog.State) Reply {
	text := c.Catalog.Render(st.Lang, "emergency_numbers", nil)
	if st.Flags["minor"] {
		text += "\n\n" + c.Catalog.Render(st.Lang, "emergency_child", nil)
	}
	return Reply{Text: text, Urgent: true}
}

// handoff gives the conversation to the desk and returns the case id, or counts that there
// was no desk.
func (b *Bot) handoff(ctx context.Context, p string, m Message, s dialog.State, o dialog.Output) string {
	b.m.handoffs.WithLabelValues(fmt.Sprint(o.Tier)).Inc()
	if b.desk == nil {
		return ""
	}
	h := Handoff{Pseudonym: p, Channel: m.Channel, ChatID: m.ChatID, State: s, Tier: o.Tier, Reason: o.Reason,
		Indicators: o.Indicators, Answers: o.Answers, Secrets: o.Secrets}
	id, err := b.desk.Open(ctx, h)
	if err != nil {
		b.m.errors.WithLabelValues("handoff").Inc()
		b.log.Error("handle: the handoff failed", "channel", m.Channel, "tier", o.Tier, "err", err)
		return ""
	}
	b.count(ctx, m.Channel, s, dialog.Output{Kind: dialog.Count, Msg: "accepted"})
	return id
}

// unsay deletes the person's message m from their chat, where the channel can (Telegram): a
// code word must not stay on a phone someone else may read. It reports whether it did.
func (b *Bot) unsay(ctx context.Context, m Message) bool {
	d, ok := b.wipers[m.Channel].(interface {
		Delete(ctx context.Context, chatID string, msgIDs []string) error
	})
	if !ok || m.MsgID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.Delete(ctx, m.ChatID, []string{m.MsgID}); err != nil {
		b.log.Warn("handle: the code word's message was not deleted", "channel", m.Channel, "err", err)
		return false
	}
	return true
}

// Goto puts a conversation at the start of a flow (after an operator closed its case) and
// returns what the person is to be shown.
func (b *Bot) Goto(ctx context.Context, channel, chatID, flow string) ([]Reply, error) {
	c := b.content.Load()
	p := pseudonym(b.key, channel, chatID)
	defer b.turns.take(p)()
	var replies []Reply
	err := b.settle(func() (err error) {
		replies, err = b.jump(ctx, c, p, channel, flow)
		return err
	})
	return replies, err
}

// jump is one try at Goto: errMoved when a message of the person's saved the conversation
// meanwhile.
func (b *Bot) jump(ctx context.Context, c *Content, p, channel, flow string) ([]Reply, error) {
	now := b.now()
	bg, err := b.store.begin(ctx, p, "", "", now) // not the person's doing: no limit
	if err != nil {
		return nil, err
	}
	var s session
	if bg.data == nil || unmarshalSession(bg.data, &s) != nil {
		s = session{Started: now.Unix()}
	}
	next, outs, err := c.Engine.Jump(s.State, flow)
	if err != nil {
		return nil, err
	}
	if s.Case != "" {
		s.Started = now.Unix() // a case may have outlived the age limit: it counts from its end
	}
	s.State, s.Case = next, ""
	if err := b.save(ctx, p, bg, &s, Message{Channel: channel}, nil); err != nil {
		return nil, err
	}
	return render(c, outs), nil
}

// counts counts the statistics a step's outputs name (count:).
func (b *Bot) counts(ctx context.Context, channel string, st dialog.State, outs []dialog.Output) {
	for _, o := range outs {
		if o.Kind == dialog.Count {
			b.count(ctx, channel, st, o)
		}
	}
}

// count adds one to a weekly statistic: one a node counts (count:), or a handoff accepted. It
// records no person, and a failure is logged, never felt by the person.
func (b *Bot) count(ctx context.Context, channel string, st dialog.State, o dialog.Output) {
	if b.stats == nil {
		return
	}
	var err error
	switch o.Msg {
	case "screened":
		var kinds []string
		for _, a := range o.Answers {
			if a.Positive && a.Kind != "" {
				kinds = append(kinds, a.Kind)
			}
		}
		err = b.stats.Screened(ctx, stats.Screening{Lang: st.Lang, Channel: channel, Tier: o.Tier,
			Codes: o.Indicators, Kinds: kinds, Minor: st.Flags["minor"]})
	default: // offered, accepted
		err = b.stats.Handoff(ctx, o.Msg)
	}
	if err != nil {
		b.log.Warn("handle: a statistic was not counted", "count", o.Msg, "err", err)
	}
}
