package handoff

// The desk in the browser (package desk) works through these: what one operator's board
// shows, a case as they may read it, and what they do to it. Each action is the same as the
// Telegram command's (claim.go, close.go, words.go), with the same checks and the same one
// winner; the answer is the counsellor's feedback, ok or not.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
)

// Summary is one case on a board.
type Summary struct {
	ID          string
	Tier        int
	Lang        string // the person's language code; LangName names it in Greek
	LangName    string
	Interpreter bool   // the operator who reads this does not speak the person's language
	State       string // "waiting", "mine", or "held" (by someone else: only supervisors see it)
	Holder      string // the alias in Greek of who holds it; "" while waiting
	HolderID    string // and their handle: Transfer takes it back, to act on the case as shown
	Created     time.Time
	Claimed     time.Time // zero while waiting
	Waiting     int       // the person's messages no counsellor answered yet
	NeedsAnswer bool      // the person waits for the answer of the counsellor who holds it
	Alert       string    // the last call for help while waiting: help, emergency, duress; ""
	AlertAt     time.Time
	Reminded    bool // the watchdog reminded its counsellor to answer
	// Duress: the person typed the duress word; someone may be reading. Faros never writes to
	// them first, and the desk warns before every word.
	Duress bool
}

// Board is what one operator's desk shows: the cases they may see, tier 3 first then the
// oldest, and the colleagues on call they may hand a case to.
type Board struct {
	Cases      []Summary
	Colleagues []roster.Operator
	Attention  int // waiting cases, and their own cases whose person waits for an answer
}

// Line is one line of a case's transcript: Who is "person", "counsellor", "note" or "media".
type Line struct {
	Who  string
	At   time.Time
	By   string // the counsellor's alias, for their lines and notes
	Text string
}

// CaseView is a case as one operator may read it at the desk: a waiting case's packet alone
// (as a Telegram notification shows it), or, for its holder or a supervisor, everything.
type CaseView struct {
	Summary  Summary
	Packet   string
	Lines    []Line // nil unless the operator holds the case or supervises
	CanWrite bool   // the operator holds it: the composer writes to its person
}

// Result is what a counsellor is told after an action at the desk.
type Result struct {
	OK      bool
	Message string // Greek · English
}

// ErrNotVisible means an operator may not see a case: it is not waiting for them, not
// theirs, and they do not supervise; or it does not exist.
var ErrNotVisible = errors.New("handoff: no such case for this operator")

// ReleaseReasons are why a counsellor gives a case back at the desk, with their names.
var ReleaseReasons = []struct{ Key, Label string }{
	{"language", "Χρειάζεται άλλη γλώσσα · needs another language"},
	{"shift", "Τέλος βάρδιας · end of my shift"},
	{"conflict", "Δεν μπορώ να την αναλάβω (π.χ. γνωρίζω το άτομο) · I cannot take it (e.g. I know the person)"},
	{"other", "Άλλος λόγος · other reason"},
}

// Outcomes are the ways a case closes, with their names, in order.
func Outcomes() []struct{ Key, Label string } {
	var out []struct{ Key, Label string }
	for _, o := range outcomes {
		out = append(out, struct{ Key, Label string }{o, outcomeNames[o] + " · " + strings.ReplaceAll(o, "_", " ")})
	}
	return out
}

// Operator returns the operator of the roster in force with handle id.
func (d *Desk) Operator(id string) (roster.Operator, bool) { return d.operator(id) }

// OnCallNow reports whether o is on call now.
func (d *Desk) OnCallNow(ctx context.Context, o roster.Operator) bool { return d.isOnCall(ctx, o) }

// Board returns o's board.
func (d *Desk) Board(ctx context.Context, o roster.Operator) (Board, error) {
	var b Board
	waiting, err := d.rdb.ZRange(ctx, d.global("waiting"), 0, -1).Result()
	if err != nil {
		return b, err
	}
	onCall := d.onCallNow(ctx)
	for _, id := range waiting {
		r, err := d.load(ctx, id)
		if err != nil {
			return b, err
		}
		if r != nil && r.State == stateOpen && d.visible(ctx, r, o) {
			b.Cases = append(b.Cases, d.summary(ctx, r, o))
		}
	}
	holders := []roster.Operator{o}
	if r := d.roster(); o.Supervisor && r != nil {
		holders = r.Operators()
	}
	for _, h := range holders {
		held, err := d.mine(ctx, h)
		if err != nil {
			return b, err
		}
		for _, r := range held {
			b.Cases = append(b.Cases, d.summary(ctx, r, o))
		}
	}
	sort.SliceStable(b.Cases, func(i, j int) bool {
		x, y := b.Cases[i], b.Cases[j]
		if (x.Tier >= 3) != (y.Tier >= 3) {
			return x.Tier >= 3
		}
		return x.Created.Before(y.Created)
	})
	for _, c := range b.Cases {
		if c.State == "waiting" || c.State == "mine" && c.NeedsAnswer {
			b.Attention++
		}
	}
	b.Colleagues = only(onCall, func(x roster.Operator) bool { return x.ID != o.ID })
	return b, nil
}

// summary is case r as operator o sees it on their board.
func (d *Desk) summary(ctx context.Context, r *record, o roster.Operator) Summary {
	s := Summary{ID: r.ID, Tier: r.Tier, Lang: r.Lang, LangName: d.langName(r.Lang),
		Interpreter: !o.Speaks(r.Lang) && r.Lang != "el", Created: r.Created, Claimed: r.Claimed,
		Alert: r.AlertKind, AlertAt: r.Alerted, Reminded: r.Nudged > 0, Duress: r.Duress}
	switch {
	case r.State == stateOpen:
		s.State = "waiting"
	case r.Operator == o.ID:
		s.State = "mine"
	default:
		s.State = "held"
	}
	if h, ok := d.operator(r.Operator); ok && s.State != "waiting" {
		s.Holder, s.HolderID = h.AliasIn("el"), h.ID
	}
	if s.State != "waiting" {
		_, err := d.rdb.ZScore(ctx, d.global("silent"), r.ID).Result()
		s.NeedsAnswer = err == nil
	}
	// The person's messages since a counsellor last wrote: the end of the log. (The record's
	// Waited counts every message written while waiting, also those answered before a release.)
	if lines, err := d.lines(ctx, r.ID); err == nil {
		for i := len(lines) - 1; i >= 0 && (lines[i].Who == "person" || lines[i].Who == "media"); i-- {
			s.Waiting++
		}
	}
	return s
}

// lines is case id's log as transcript lines.
func (d *Desk) lines(ctx context.Context, id string) ([]Line, error) {
	es, err := d.entries(ctx, id)
	if err != nil {
		return nil, err
	}
	who := map[string]string{"p": "person", "o": "counsellor", "n": "note", "m": "media"}
	out := make([]Line, 0, len(es))
	for _, e := range es {
		l := Line{Who: who[e.Who], At: time.UnixMilli(e.At), By: e.By, Text: e.Text}
		if e.Who == "m" {
			kind, caption, _ := strings.Cut(e.Text, "|")
			l.Text = strings.TrimSpace("📎 " + name(mediaNames, kind) + " " + caption)
		}
		out = append(out, l)
	}
	return out, nil
}

// ViewCase returns case id as o may read it; ErrNotVisible if they may not.
func (d *Desk) ViewCase(ctx context.Context, o roster.Operator, id string) (CaseView, error) {
	r, err := d.load(ctx, id)
	if err != nil {
		return CaseView{}, err
	}
	if r == nil || !d.visible(ctx, r, o) {
		return CaseView{}, ErrNotVisible
	}
	v := CaseView{Summary: d.summary(ctx, r, o), CanWrite: r.State == stateClaimed && r.Operator == o.ID}
	if v.Packet, err = d.brief(ctx, r, o, v.CanWrite); errors.Is(err, errSealed) {
		return CaseView{}, ErrNotVisible // closed a moment ago
	} else if err != nil {
		return CaseView{}, err
	}
	if v.CanWrite || o.Supervisor {
		if v.Lines, err = d.lines(ctx, id); errors.Is(err, errSealed) {
			return CaseView{}, ErrNotVisible
		} else if err != nil {
			return CaseView{}, err
		}
	}
	return v, nil
}

// visible reports whether o may see case r: it waits and they are on call, or were sent it;
// it is theirs; or they supervise.
func (d *Desk) visible(ctx context.Context, r *record, o roster.Operator) bool {
	switch {
	case o.Supervisor, r.Operator == o.ID && r.State != stateOpen:
		return true
	case r.State == stateOpen:
		return slices.Contains(r.Notified, o.ID) || d.isOnCall(ctx, o)
	}
	return false
}

// result is the first of replies as the counsellor's feedback, ok when the case's state after
// the action is what the action wanted.
func result(ok bool, replies []bot.Reply) Result {
	res := Result{OK: ok}
	if len(replies) > 0 {
		res.Message = replies[0].Text
	}
	return res
}

// Claim claims case id for o: the same claim as Telegram's, so that of a desk and a phone
// pressing at once one wins.
func (d *Desk) Claim(ctx context.Context, o roster.Operator, id string) (Result, error) {
	replies, err := d.claim(ctx, o, id)
	if err != nil {
		return Result{}, err
	}
	r, err := d.load(ctx, id)
	return result(err == nil && r != nil && r.State == stateClaimed && r.Operator == o.ID, replies), err
}

// Write sends o's words to the person of case id, which o must hold: only to that person.
func (d *Desk) Write(ctx context.Context, o roster.Operator, id, text string) (Result, error) {
	if strings.TrimSpace(text) == "" {
		return Result{Message: "Κενό μήνυμα· τίποτα δεν στάλθηκε. · Empty message; nothing was sent."}, nil
	}
	if r, refusal, err := d.heldBy(ctx, o, id); r == nil {
		return result(false, refusal), err
	}
	replies, err := d.toPerson(ctx, o, id, text, "")
	if err != nil {
		return Result{}, err
	}
	if len(replies) == 0 || replies[0].Text == fmt.Sprintf(opSentTo, id) {
		return Result{OK: true, Message: fmt.Sprintf("[%s] Στάλθηκε. · Sent.", id)}, nil
	}
	// Kept for a page that is closed (opAway) is sent; a person who cannot be reached is not.
	return result(replies[0].Text != fmt.Sprintf(opPersonGone, id), replies), nil
}

// Note keeps o's internal note in case id, which they must hold.
func (d *Desk) Note(ctx context.Context, o roster.Operator, id, text string) (Result, error) {
	if strings.TrimSpace(text) == "" {
		return Result{Message: "Κενή σημείωση · Empty note."}, nil
	}
	replies, err := d.note(ctx, o, id, text, "")
	if err != nil {
		return Result{}, err
	}
	return result(replies[0].Text == fmt.Sprintf(opNote, id), replies), nil
}

// Release gives case id, which o holds, back to those on call, for reason (a ReleaseReasons
// key): the audit keeps the reason, never words of the counsellor's.
func (d *Desk) Release(ctx context.Context, o roster.Operator, id, reason string) (Result, error) {
	if !slices.ContainsFunc(ReleaseReasons, func(r struct{ Key, Label string }) bool { return r.Key == reason }) {
		return Result{Message: "Διάλεξε λόγο. · Choose a reason."}, nil
	}
	replies, err := d.release(ctx, o, id, "released_"+reason)
	if err != nil {
		return Result{}, err
	}
	return result(replies[0].Text == fmt.Sprintf(opReleased, id), replies), nil
}

// Close closes case id, which o holds, with outcome and, for "referred", the referral named
// ref (one of the roster's referrals). The desk asked the counsellor to confirm.
func (d *Desk) Close(ctx context.Context, o roster.Operator, id, outcome, ref string) (Result, error) {
	if !slices.Contains(outcomes, outcome) {
		return Result{Message: "Διάλεξε έκβαση. · Choose an outcome."}, nil
	}
	// Held, or closing under this counsellor's hands (a close cut short): the close script
	// decides, and lets them finish it.
	if r, err := d.load(ctx, id); err != nil || r == nil || r.Operator != o.ID || r.State == stateOpen {
		refusal, err := d.notClosing(ctx, o, id, err)
		return result(false, refusal), err
	}
	index := ""
	if outcome == "referred" {
		i := slices.Index(d.referrals(), ref)
		if i < 0 {
			return Result{Message: "Διάλεξε σε ποια υπηρεσία παραπέμφθηκε. · Choose the service it was referred to."}, nil
		}
		index = fmt.Sprint(i)
	}
	replies, err := d.close(ctx, o, id, outcome, index)
	if err != nil {
		return Result{}, err
	}
	r, err := d.load(ctx, id)
	return result(err == nil && r == nil, replies), err
}

// Referrals lists the services a case can be referred to.
func (d *Desk) Referrals() []string { return d.referrals() }

// SetDuty puts o on or off call for today, as /duty does.
func (d *Desk) SetDuty(ctx context.Context, o roster.Operator, on bool) (Result, error) {
	onOff := map[bool]string{true: "on", false: "off"}[on]
	replies, err := d.duty(ctx, o, onOff)
	return result(err == nil, replies), err
}

// Transfer gives case id to colleague to, who is on call and has room: by its holder, or by
// a supervisor (a waiting case too: then it is claimed for them). from is who held the case
// when the desk showed it ("" waiting): if that changed meanwhile (someone claimed it, it was
// given to another), nothing happens and the counsellor looks again. The colleague gets the
// case as a claimer does, loudly; the person is told who writes now, as at a claim.
func (d *Desk) Transfer(ctx context.Context, by roster.Operator, id, to, from string) (Result, error) {
	t, ok := d.operator(to)
	if !ok || to == by.ID || to == from || !d.isOnCall(ctx, t) {
		return Result{Message: "Διάλεξε συνάδελφο σε βάρδια. · Choose a colleague on call."}, nil
	}
	if held, err := d.mine(ctx, t); err != nil {
		return Result{}, err
	} else if len(held) >= max(t.MaxCases, 1) {
		return Result{Message: fmt.Sprintf(opColleagueFull, id, t.AliasIn("el"))}, nil
	}
	r, err := d.load(ctx, id)
	switch {
	case err != nil:
		return Result{}, err
	case r == nil:
		return Result{Message: fmt.Sprintf(opGone, id, id)}, nil
	case r.State == stateOpen && from == "" && by.Supervisor:
		replies, err := d.claim(ctx, t, id)
		if err != nil {
			return Result{}, err
		}
		if now, err := d.load(ctx, id); err != nil || now == nil || now.Operator != t.ID {
			return result(false, replies), err
		}
		d.unsole(ctx, t) // they did not choose it: words they were writing for another case wait
		d.ring(ctx, t, fmt.Sprintf(opAssigned, id, by.AliasIn("el"), by.AliasIn("el")), replies)
		d.audit(ctx, "assigned", id, "operator", t.ID, "by", by.ID)
		return Result{OK: true, Message: fmt.Sprintf(opTransferred, id, t.AliasIn("el"), t.AliasIn("el"))}, nil
	case r.State != stateClaimed || r.Operator != by.ID && !by.Supervisor:
		return Result{Message: fmt.Sprintf(opNotYours, id)}, nil
	case r.Operator != from:
		return Result{Message: fmt.Sprintf(opChanged, id)}, nil
	}
	now := d.now()
	moved, err := transferScript.Run(ctx, d.rdb, []string{d.key(id, "case")}, from, t.ID, now.UnixMilli()).Bool()
	if err != nil || !moved {
		return Result{Message: fmt.Sprintf(opNotYours, id)}, err
	}
	r.Operator, r.Claimed = t.ID, now
	r.History = append(r.History, historyEntry(histTransferred, now, t.AliasIn("el")))
	if err := d.save(ctx, r, "history"); err != nil {
		d.log.Warn("handoff: a transferred case's history not saved", "case", id, "err", err)
	}
	pipe := d.rdb.Pipeline()
	pipe.SRem(ctx, d.opKey(from, "cases"), id)
	pipe.SAdd(ctx, d.opKey(t.ID, "cases"), id)
	pipe.Expire(ctx, d.opKey(t.ID, "cases"), d.retention)
	// If the person waits for an answer, the new counsellor has the whole time to give it.
	pipe.ZAddXX(ctx, d.global("silent"), redis.Z{Score: float64(now.Add(d.answerFor(r.Tier)).UnixMilli()), Member: id})
	if _, err := pipe.Exec(ctx); err != nil {
		return Result{}, err
	}
	d.audit(ctx, "transferred", id, "from", from, "operator", t.ID, "by", by.ID)
	// Neither counsellor chose what they hold now (but the holder who gave their own case):
	// words without a reply wait for them to say which case, never go to the case left.
	d.unsole(ctx, t)
	if f, ok := d.operator(from); ok {
		if from == by.ID {
			d.solely(ctx, f)
		} else {
			d.unsole(ctx, f)
			_ = d.send(ctx, f, say("", opTakenFrom, id, t.AliasIn("el"), by.AliasIn("el")))
		}
	}
	d.tellMessage(ctx, r, "handoff_claimed", map[string]any{"Alias": t.AliasIn(r.Lang)})
	replies := say(id, opClaimed, id, t.AliasIn(r.Lang), t.AliasIn(r.Lang))
	if brief, err := d.brief(ctx, r, t, true); err == nil {
		replies = append(replies, bot.Reply{Text: brief, Tag: id, Shown: true})
	}
	d.ring(ctx, t, fmt.Sprintf(opAssigned, id, by.AliasIn("el"), by.AliasIn("el")), append(replies, d.transcript(ctx, id)...))
	return Result{OK: true, Message: fmt.Sprintf(opTransferred, id, t.AliasIn("el"), t.AliasIn("el"))}, nil
}

// ring sends operator o a case that is now theirs: a loud heading, then replies.
func (d *Desk) ring(ctx context.Context, o roster.Operator, heading string, replies []bot.Reply) {
	id := ""
	if len(replies) > 0 {
		id = replies[0].Tag
	}
	head := bot.Reply{Text: heading, Ring: true, Urgent: true, Tag: id}
	if err := d.send(ctx, o, append([]bot.Reply{head}, replies...)); err != nil {
		d.log.Warn("handoff: the colleague a case went to was not told", "case", id, "operator", o.ID, "err", err)
	}
}

// AuditTrail returns case id's audit trail, for a supervisor.
func (d *Desk) AuditTrail(ctx context.Context, o roster.Operator, id string) ([]AuditEvent, error) {
	if !o.Supervisor {
		return nil, ErrNotVisible
	}
	return Trail(ctx, d.rdb, d.prefix, id)
}

// transferScript moves a case claimed by ARGV[1] to ARGV[2], so that a transfer racing a
// release, a close or the watchdog moves it once or not at all.
var transferScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'claimed' or redis.call('HGET', KEYS[1], 'operator') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'operator', ARGV[2], 'claimed', ARGV[3], 'nudged', 0)
return 1
`)
