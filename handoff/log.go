package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
)

// entry is one line of a case's log, sealed with the case: what the person and the operators
// wrote, and the operators' notes, so that whoever claims the case next reads both sides.
type entry struct {
	Who  string `json:"w"`           // "p" the person, "o" an operator, "n" an operator's note, "m" the person's media
	At   int64  `json:"t"`           // unix ms
	By   string `json:"a,omitempty"` // the operator's alias in Greek
	Text string `json:"x"`           // for "m": the kind of media, then its caption
}

// keep adds an entry to the case's sealed log.
func (d *Desk) keep(ctx context.Context, id string, key []byte, e entry) {
	e.At = d.now().UnixMilli()
	data, _ := json.Marshal(e) // strings and a number: never fails
	pipe := d.rdb.Pipeline()
	pipe.RPush(ctx, d.key(id, "log"), sealData(key, data, "log"))
	pipe.LTrim(ctx, d.key(id, "log"), -maxLog, -1)
	pipe.Expire(ctx, d.key(id, "log"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Warn("handoff: message not kept", "case", id, "err", err)
	}
}

// maxLog bounds a case's log: the newest messages are kept, so that a flood in a case cannot
// grow it for the week a case may last.
const maxLog = 1000

// entries returns a case's log, oldest first.
func (d *Desk) entries(ctx context.Context, id string) ([]entry, error) {
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, err
	}
	boxes, err := d.rdb.LRange(ctx, d.key(id, "log"), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, b := range boxes {
		var e entry
		if data, err := openData(key, []byte(b), "log"); err == nil && json.Unmarshal(data, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// transcript is the case's log as the operator who claims it reads it: both sides, the notes,
// with their times; nil when there is nothing yet.
func (d *Desk) transcript(ctx context.Context, id string) []bot.Reply {
	es, err := d.entries(ctx, id)
	if err != nil || len(es) == 0 {
		return nil
	}
	loc := d.location()
	// The newest lines that fit in about three Telegram messages: a flood while waiting must
	// not hold the counsellor's chat for minutes.
	size, first := 0, len(es)
	for first > 0 && size+len(es[first-1].Text) < maxTranscript {
		first--
		size += len(es[first].Text) + 30
	}
	lines := []string{fmt.Sprintf(opTranscript, id)}
	if first > 0 {
		lines = append(lines, fmt.Sprintf(opEarlier, first, first))
	}
	for _, e := range es[first:] {
		at := time.UnixMilli(e.At).In(loc).Format("15:04")
		switch e.Who {
		case "p":
			lines = append(lines, at+" Άτομο: "+e.Text)
		case "m":
			kind, caption, _ := strings.Cut(e.Text, "|")
			lines = append(lines, strings.TrimSpace(at+" Άτομο: 📎 "+name(mediaNames, kind)+" "+caption))
		case "o":
			lines = append(lines, at+" "+e.By+": "+e.Text)
		case "n":
			lines = append(lines, at+" 📝 "+e.By+" (σημείωση · note): "+e.Text)
		}
	}
	return []bot.Reply{{Text: strings.Join(lines, "\n"), Tag: id, Shown: true}}
}

// maxTranscript is about how many bytes of a case's log a claimer is sent.
const maxTranscript = 12_000

func (d *Desk) location() *time.Location {
	if r := d.roster(); r != nil {
		return r.Timezone()
	}
	return time.UTC
}

// Sent records the ids of messages about case tag in an operator's chat (chatID on channel):
// a reply to one of them goes to its case, and all of them are deleted when the case closes.
// The service calls it for every message a channel of operators (Config.Operators) sent with a
// tag.
func (d *Desk) Sent(channel, chatID, tag string, msgIDs []string) {
	ros := d.roster()
	if ros == nil || tag == "" {
		return
	}
	o, ok := ros.ByAddress(channel, chatID)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.phoned(ctx, o, tag, msgIDs)
}

// phoned records messages of operator o's chat as case id's. Each entry names the chat too
// (see parsePhoned), so that they can be deleted after o left the roster.
func (d *Desk) phoned(ctx context.Context, o roster.Operator, id string, msgIDs []string) {
	if len(msgIDs) == 0 {
		return
	}
	op := o.ID
	entries := make([]any, 0, len(msgIDs)+1)
	entries = append(entries, d.retention.Milliseconds())
	fields := make([]any, 0, 2*len(msgIDs))
	for _, m := range msgIDs {
		entries = append(entries, op+":"+o.Address.Channel+":"+m+":"+o.Address.ID)
		fields = append(fields, m, id)
	}
	kept, err := phonedScript.Run(ctx, d.rdb, []string{d.key(id, "case"), d.key(id, "phones")}, entries...).Int()
	if err != nil {
		d.log.Warn("handoff: ids of an operator's messages not kept; they stay in the chat", "case", id, "err", err)
	}
	if err == nil && kept == 0 {
		// The case closed while these waited to be sent (the person stopped): they go at once.
		d.later(func(ctx context.Context) { _ = d.deleteIn(ctx, o.Address, msgIDs) })
		return
	}
	pipe := d.rdb.Pipeline()
	pipe.HSet(ctx, d.opKey(op, "msgs"), fields...)
	pipe.Expire(ctx, d.opKey(op, "msgs"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Warn("handoff: ids of an operator's messages not kept; they stay in the chat", "case", id, "err", err)
	}
}

// deleteIn deletes messages of an operator's chat, at address a.
func (d *Desk) deleteIn(ctx context.Context, a roster.Address, msgIDs []string) error {
	p, err := d.phones(a.Channel)
	if err != nil {
		return err
	}
	return p.Delete(ctx, a.ID, msgIDs)
}

// phonedScript keeps message ids of case KEYS[1] in its list KEYS[2] for ARGV[1] ms, if the
// case still exists; it returns whether it did.
var phonedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`)

// caseOfReply returns the case of the message an operator replied to; "" if none is known.
func (d *Desk) caseOfReply(ctx context.Context, o roster.Operator, msgID string) string {
	if msgID == "" {
		return ""
	}
	id, err := d.rdb.HGet(ctx, d.opKey(o.ID, "msgs"), msgID).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		d.log.Warn("handoff: the case of a reply was not read", "err", err)
	}
	return id
}

// unphone forgets the ids of a case's messages in the operators' chats and deletes the messages
// from them in the background (Telegram allows it for 48 hours).
func (d *Desk) unphone(ctx context.Context, id string) {
	all, err := d.rdb.LRange(ctx, d.key(id, "phones"), 0, -1).Result()
	if err != nil || len(all) == 0 {
		return
	}
	byPhone := map[phone][]string{}
	var phones []phone
	for _, s := range all {
		p, msg, ok := parsePhoned(s)
		if !ok {
			continue
		}
		if !slices.Contains(phones, p) {
			phones = append(phones, p)
		}
		byPhone[p] = append(byPhone[p], msg)
	}
	pipe := d.rdb.Pipeline()
	for _, p := range phones {
		msgs := byPhone[p]
		pipe.HDel(ctx, d.opKey(p.op, "msgs"), msgs...)
		d.later(func(ctx context.Context) {
			if err := d.deleteIn(ctx, p.chat, msgs); err != nil {
				d.log.Warn("handoff: a closed case's messages were not all deleted from an operator's chat", "case", id, "operator", p.op, "err", err)
			}
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Warn("handoff: ids of a closed case's messages not forgotten; they expire", "case", id, "err", err)
	}
}

// phone is an operator's chat that holds messages of a case.
type phone struct {
	op   string         // the operator's handle
	chat roster.Address // the chat, which outlives the operator's place on the roster
}

// parsePhoned reads an entry of a case's phones list: "OPERATOR:CHANNEL:MESSAGE:CHAT" (the
// chat last: another channel's chat ids may hold a colon), or "OPERATOR:CHAT:MESSAGE" as kept
// before operators were reached on any channel but Telegram. ok is false for anything else.
func parsePhoned(s string) (p phone, msgID string, ok bool) {
	parts := strings.SplitN(s, ":", 4)
	switch len(parts) {
	case 4:
		return phone{parts[0], roster.Address{Channel: parts[1], ID: parts[3]}}, parts[2], true
	case 3: // the older form, in cases opened before it changed (7 days at most)
		return phone{parts[0], roster.Address{Channel: roster.Telegram, ID: parts[1]}}, parts[2], true
	}
	return phone{}, "", false
}

// heldLife is how long words an operator wrote while holding several cases wait for them to
// say which case they are for.
const heldLife = 15 * time.Minute

// held is an operator's message waiting for its case.
type held struct {
	Text  string `json:"x"`
	MsgID string `json:"m,omitempty"` // in the operator's chat, to delete with the case
}

// hold keeps an operator's words, sealed, until they choose the case; it returns their number.
func (d *Desk) hold(ctx context.Context, o roster.Operator, h held) (string, error) {
	n := newID()[:4]
	data, _ := json.Marshal(h)
	pipe := d.rdb.Pipeline()
	pipe.HSet(ctx, d.opKey(o.ID, "held"), n, d.keys.wrap(data, "held:"+o.ID+":"+n))
	pipe.Expire(ctx, d.opKey(o.ID, "held"), heldLife)
	_, err := pipe.Exec(ctx)
	return n, err
}

// unhold takes held words n back; ok is false when they are gone (sent, or expired).
func (d *Desk) unhold(ctx context.Context, o roster.Operator, n string) (h held, ok bool, err error) {
	box, err := d.rdb.HGet(ctx, d.opKey(o.ID, "held"), n).Bytes()
	if errors.Is(err, redis.Nil) {
		return held{}, false, nil
	}
	if err != nil {
		return held{}, false, err
	}
	if gone, err := d.rdb.HDel(ctx, d.opKey(o.ID, "held"), n).Result(); err != nil || gone == 0 {
		return held{}, false, err // a double press: the other one sends it
	}
	data, err := d.keys.unwrap(box, "held:"+o.ID+":"+n)
	if err != nil || json.Unmarshal(data, &h) != nil {
		return held{}, false, nil
	}
	return h, true, nil
}
