// Package handoff brings a person who agreed to it to an EKKA operator on call, and keeps
// them talking through the bot without either learning who the other is: a durable queue of
// cases on Redis Streams, notification and claim, the relay both ways, escalation, and cases
// sealed with their own key until they close. Who the operators are, where they are reached
// and when they are on call is package roster's.
package handoff

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
	"github.com/faros-project/faros/stats"
)

// Conversations puts a person's conversation back on a flow (the bot does).
type Conversations interface {
	Goto(ctx context.Context, channel, chatID, flow string) ([]bot.Reply, error)
}

// Phones reaches operators on one channel, by the id of their address on it (roster.Address):
// for Telegram, the service's telegram.Channel, by user id.
type Phones interface {
	// Send delivers replies to an operator's chat. A reply with a Tag is reported to Desk.Sent
	// with its message ids once sent, so that a reply to it goes to its case and it is deleted
	// with the case.
	bot.Sender
	// Copy copies message msgID of chat fromChat (a person's, on the same channel) into chat
	// toChat, protected from forwarding and saving, and waits until it is sent; tag is
	// reported with its id. A channel that cannot copies nothing and returns an error.
	Copy(ctx context.Context, toChat, fromChat, msgID, tag string) error
	// Delete deletes messages of a chat where the channel can (Telegram: under 48 hours old).
	Delete(ctx context.Context, chatID string, msgIDs []string) error
}

// Config configures a Desk. Redis, Secret, Roster, Operators and Catalog are required.
type Config struct {
	Redis  redis.UniversalClient
	Prefix string // of every key; "": "faros"
	// Secret wraps the cases' keys; keep it stable, or open cases become unreadable.
	Secret []byte
	// Roster returns the roster in force (it is reloaded); nil means nobody is on call.
	Roster func() *roster.Roster
	// Operators reaches operators, by the channel of their address (roster.Address.Channel;
	// roster.Telegram for the roster's telegram_id). An operator whose channel is missing is
	// unreachable: told nothing, their cases given back.
	Operators map[string]Phones
	// People delivers to persons, by the channel of their messages (bot.Message.Channel).
	People map[string]bot.Sender
	// Conversations takes a person back to the flows when their case closes; nil: it does not.
	Conversations Conversations
	// Catalog returns the messages in force, for what people are told.
	Catalog func() *locales.Catalog
	// AfterClose is the flow a person returns to when their case closes; "": "info".
	AfterClose string
	// Stats counts claims and closings in the weekly statistics, and answers /stats; nil:
	// none kept. StatsNames names the indicators there (the content's list).
	Stats      *stats.Counter
	StatsNames func() stats.Names
	// Wait is how long a case may stay unclaimed before it escalates, by tier; missing tiers:
	// 3 minutes for tier 3, 10 minutes for the others.
	Wait map[int]time.Duration
	// Answer is how long a person in a claimed case may wait for their operator's answer
	// before the operator is reminded; as long again, and the case goes to the others on call.
	// Missing tiers: 5 minutes for tier 3, 15 minutes for the others.
	Answer map[int]time.Duration
	// Reassure is the least time between two reassurances to a waiting person; 0: 3 minutes.
	Reassure time.Duration
	// Retention is how long a case lives unclosed; 0: 7 days.
	Retention time.Duration
	// AuditRetention is how long the audit trail is kept after its last entry; 0: 90 days.
	AuditRetention time.Duration
	// Idle is how long a queued case may stay with an instance that does not confirm it
	// before another instance takes it; 0: 30 seconds.
	Idle time.Duration
	// Consumer names this instance in the queue's consumer group; "": a random name.
	Consumer   string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Desk is the handoff desk. It implements bot.Desk; Route puts it in front of the bot for
// operators' messages; Run notifies and escalates.
type Desk struct {
	rdb        redis.UniversalClient
	prefix     string
	keys       keyring
	roster     func() *roster.Roster
	operators  map[string]Phones
	people     map[string]bot.Sender
	convs      Conversations
	catalog    func() *locales.Catalog
	afterClose string
	stats      *stats.Counter
	statsNames func() stats.Names
	wait       map[int]time.Duration
	answer     map[int]time.Duration
	reassure   time.Duration
	retention  time.Duration
	auditLife  time.Duration
	idle       time.Duration
	consumer   string
	log        *slog.Logger
	now        func() time.Time
	m          *metrics

	bg backgroundWork // what later started

	mu         sync.Mutex
	onCall     []roster.Operator // cached for a few seconds: OnDuty runs on every message
	cachedT    time.Time
	cachedR    *roster.Roster // the roster onCall was read from: a new one is read at once
	refreshing chan struct{}  // closed when the reading of onCall in flight ends; nil if none
}

var _ bot.Desk = (*Desk)(nil)

// New returns a Desk.
func New(cfg Config) (*Desk, error) {
	if cfg.Redis == nil || len(cfg.Secret) == 0 || cfg.Roster == nil || len(cfg.Operators) == 0 || cfg.Catalog == nil {
		return nil, errors.New("handoff: Redis, Secret, Roster, Operators and Catalog are required")
	}
	d := &Desk{
		rdb: cfg.Redis, prefix: cmp.Or(cfg.Prefix, "faros"), keys: newKeyring(cfg.Secret), roster: cfg.Roster,
		operators: cfg.Operators, people: cfg.People, convs: cfg.Conversations, catalog: cfg.Catalog,
		afterClose: cmp.Or(cfg.AfterClose, "info"), stats: cfg.Stats, statsNames: cfg.StatsNames, wait: map[int]time.Duration{1: 10 * time.Minute, 2: 10 * time.Minute, 3: 3 * time.Minute},
		answer:   map[int]time.Duration{1: 15 * time.Minute, 2: 15 * time.Minute, 3: 5 * time.Minute},
		reassure: cmp.Or(cfg.Reassure, 3*time.Minute), retention: cmp.Or(cfg.Retention, 7*24*time.Hour),
		auditLife: cmp.Or(cfg.AuditRetention, 90*24*time.Hour),
		idle:      cmp.Or(cfg.Idle, 30*time.Second), consumer: cmp.Or(cfg.Consumer, "desk-"+newID()),
		log: cfg.Logger, now: cfg.Now, m: newMetrics(cfg.Registerer),
	}
	for tier, w := range cfg.Wait {
		d.wait[tier] = w
	}
	for tier, w := range cfg.Answer {
		d.answer[tier] = w
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.bg.ctx, d.bg.cut = context.WithCancel(context.Background())
	return d, nil
}

// newID is a case id an operator can read out and type: 8 letters and digits.
func newID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// recipients are the operators a case goes to at an escalation level: at first those on call
// who speak the person's language (everyone on call for tier 3, or when none does, and then
// the backups who speak it too), then everyone on call, then the backups too.
func (d *Desk) recipients(ctx context.Context, lang string, tier, level int) []roster.Operator {
	onCall := d.onCallNow(ctx)
	var backups []roster.Operator
	if r := d.roster(); r != nil {
		backups = r.Backups()
	}
	speaks := func(o roster.Operator) bool { return o.Speaks(lang) }
	switch {
	case level >= 2:
		return union(onCall, backups)
	case !slices.ContainsFunc(onCall, speaks):
		return union(onCall, only(backups, speaks))
	case level == 0 && tier < 3:
		return only(onCall, speaks)
	}
	return slices.Clone(onCall)
}

// only returns the operators of ops for whom keep is true.
func only(ops []roster.Operator, keep func(roster.Operator) bool) []roster.Operator {
	var out []roster.Operator
	for _, o := range ops {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// union is a then those of b not in a.
func union(a, b []roster.Operator) []roster.Operator {
	out := slices.Clone(a)
	for _, o := range b {
		if !slices.ContainsFunc(out, func(x roster.Operator) bool { return x.ID == o.ID }) {
			out = append(out, o)
		}
	}
	return out
}

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
		replies = append(replies, bot.Reply{Text: fmt.Sprintf("[%s] %s", id, m.Text)})
	case copiable(r, o, m):
		replies = append(replies, bot.Reply{Text: fmt.Sprintf(opMedia, id, name(mediaNames, m.Media))})
	}
	for i := range replies {
		replies[i].Ring, replies[i].Tag = true, id
	}
	d.watchFor(ctx, r, alert != "")
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

// count adds one to a weekly statistic with add, when the desk keeps them. It records no
// person, case or operator; a failure is logged and changes nothing else.
func (d *Desk) count(what string, add func(*stats.Counter) error) {
	if d.stats == nil {
		return
	}
	if err := add(d.stats); err != nil {
		d.log.Warn("handoff: a statistic was not counted", "count", what, "err", err)
	}
}

// operator finds an operator of the roster in force by handle.
func (d *Desk) operator(handle string) (roster.Operator, bool) {
	r := d.roster()
	if r == nil || handle == "" {
		return roster.Operator{}, false
	}
	return r.Operator(handle)
}

// send delivers replies to operator o, at their address.
func (d *Desk) send(ctx context.Context, o roster.Operator, replies []bot.Reply) error {
	p, err := d.phones(o.Address.Channel)
	if err != nil {
		return err
	}
	return p.Send(ctx, o.Address.ID, replies)
}

// phones returns what reaches operators on channel.
func (d *Desk) phones(channel string) (Phones, error) {
	if p := d.operators[channel]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no way to reach operators on channel %q", channel)
}

// tell delivers replies to the person of a case.
func (d *Desk) tell(ctx context.Context, r *record, replies []bot.Reply) error {
	key, err := d.caseKey(ctx, r.ID)
	if err != nil {
		return err
	}
	addr, err := openData(key, r.Addr, "addr")
	if err != nil {
		return err
	}
	s := d.people[r.Channel]
	if s == nil {
		return fmt.Errorf("no sender for channel %q", r.Channel)
	}
	return s.Send(ctx, string(addr), replies)
}

// tellMessage tells the person of a case one message of the catalog, unless they typed the
// duress word: then Faros never writes to them first (someone may be reading).
func (d *Desk) tellMessage(ctx context.Context, r *record, msg string, params map[string]any) {
	if r.Duress {
		d.audit(ctx, "not_told", r.ID, "message", msg, "why", "duress")
		return
	}
	text := d.catalog().Render(r.Lang, msg, params)
	if err := d.tell(ctx, r, []bot.Reply{{Text: text}}); err != nil && !errors.Is(err, bot.ErrAway) {
		d.log.Warn("handoff: the person was not told", "case", r.ID, "message", msg, "err", err)
	}
}

// ConversationsFunc adapts a function to Conversations.
type ConversationsFunc func(ctx context.Context, channel, chatID, flow string) ([]bot.Reply, error)

// Goto calls f.
func (f ConversationsFunc) Goto(ctx context.Context, channel, chatID, flow string) ([]bot.Reply, error) {
	return f(ctx, channel, chatID, flow)
}
