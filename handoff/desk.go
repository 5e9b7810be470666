// Package handoff brings a person who agreed to it to an EKKA operator on call, and keeps
// them talking through the bot without either learning who the other is: the roster, a
// durable queue of cases on Redis Streams, notification and claim, the relay both ways,
// escalation, and cases sealed with their own key until they close.
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
	"github.com/faros-project/faros/locales"
)

// Conversations puts a person's conversation back on a flow (the bot does).
type Conversations interface {
	Goto(ctx context.Context, channel, chatID, flow string) ([]bot.Reply, error)
}

// Config configures a Desk. Redis, Secret, Roster, Operators and Catalog are required.
type Config struct {
	Redis  redis.UniversalClient
	Prefix string // of every key; "": "faros"
	// Secret wraps the cases' keys; keep it stable, or open cases become unreadable.
	Secret []byte
	// Roster returns the roster in force (it is reloaded); nil means nobody is on call.
	Roster func() *Roster
	// Operators delivers to operators' private Telegram chats, by their Telegram user id.
	Operators bot.Sender
	// People delivers to persons, by channel ("telegram", "web", "api").
	People map[string]bot.Sender
	// Conversations takes a person back to the flows when their case closes; nil: it does not.
	Conversations Conversations
	// Catalog returns the messages in force, for what people are told.
	Catalog func() *locales.Catalog
	// AfterClose is the flow a person returns to when their case closes; "": "info".
	AfterClose string
	// Wait is how long a case may stay unclaimed before it escalates, by tier; missing tiers:
	// 3 minutes for tier 3, 10 minutes for the others.
	Wait map[int]time.Duration
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
	roster     func() *Roster
	operators  bot.Sender
	people     map[string]bot.Sender
	convs      Conversations
	catalog    func() *locales.Catalog
	afterClose string
	wait       map[int]time.Duration
	reassure   time.Duration
	retention  time.Duration
	auditLife  time.Duration
	idle       time.Duration
	consumer   string
	log        *slog.Logger
	now        func() time.Time
	m          *metrics

	mu      sync.Mutex
	onCall  []Operator // cached for a few seconds: OnDuty runs on every message
	cachedT time.Time
	cachedR *Roster // the roster onCall was read from: a new one is read at once
}

var _ bot.Desk = (*Desk)(nil)

// New returns a Desk.
func New(cfg Config) (*Desk, error) {
	if cfg.Redis == nil || len(cfg.Secret) == 0 || cfg.Roster == nil || cfg.Operators == nil || cfg.Catalog == nil {
		return nil, errors.New("handoff: Redis, Secret, Roster, Operators and Catalog are required")
	}
	d := &Desk{
		rdb: cfg.Redis, prefix: cmp.Or(cfg.Prefix, "faros"), keys: newKeyring(cfg.Secret), roster: cfg.Roster,
		operators: cfg.Operators, people: cfg.People, convs: cfg.Conversations, catalog: cfg.Catalog,
		afterClose: cmp.Or(cfg.AfterClose, "info"), wait: map[int]time.Duration{1: 10 * time.Minute, 2: 10 * time.Minute, 3: 3 * time.Minute},
		reassure: cmp.Or(cfg.Reassure, 3*time.Minute), retention: cmp.Or(cfg.Retention, 7*24*time.Hour),
		auditLife: cmp.Or(cfg.AuditRetention, 90*24*time.Hour),
		idle:      cmp.Or(cfg.Idle, 30*time.Second), consumer: cmp.Or(cfg.Consumer, "desk-"+newID()),
		log: cfg.Logger, now: cfg.Now, m: newMetrics(cfg.Registerer),
	}
	for tier, w := range cfg.Wait {
		d.wait[tier] = w
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// newID is a case id an operator can read out and type: 8 letters and digits.
func newID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// onCallNow returns the operators on duty now, by roster and /duty, cached for 5 seconds.
func (d *Desk) onCallNow(ctx context.Context) []Operator {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	r := d.roster()
	if d.onCall != nil && r == d.cachedR && now.Sub(d.cachedT) < 5*time.Second && !now.Before(d.cachedT) {
		return d.onCall
	}
	if r == nil {
		return nil
	}
	ops := r.Operators()
	keys := make([]string, len(ops))
	for i, o := range ops {
		keys[i] = d.opKey(o.ID, "duty:"+r.Day(now))
	}
	duty := map[string]bool{}
	if len(keys) > 0 {
		// One GET each in a pipeline, not MGET: on a cluster the keys live on different nodes.
		pipe := d.rdb.Pipeline()
		gets := make([]*redis.StringCmd, len(keys))
		for i, k := range keys {
			gets[i] = pipe.Get(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			d.log.Warn("handoff: /duty not read; shifts only", "err", err)
		}
		for i, g := range gets {
			if v, err := g.Result(); err == nil {
				duty[ops[i].ID] = v == "on"
			}
		}
	}
	d.onCall, d.cachedT, d.cachedR = r.OnCall(now, duty), now, r
	if d.onCall == nil {
		d.onCall = []Operator{}
	}
	return d.onCall
}

// recipients are the operators a case goes to at an escalation level: at first those on call
// who speak the person's language (all on call if none does, or for tier 3), then everyone on
// call, then the backups too.
func (d *Desk) recipients(ctx context.Context, lang string, tier, level int) []Operator {
	onCall := d.onCallNow(ctx)
	if level == 0 && tier < 3 {
		var speakers []Operator
		for _, o := range onCall {
			if o.Speaks(lang) {
				speakers = append(speakers, o)
			}
		}
		if len(speakers) > 0 {
			return speakers
		}
	}
	out := slices.Clone(onCall)
	if level >= 2 && d.roster() != nil {
		for _, b := range d.roster().Backups() {
			if !slices.ContainsFunc(out, func(o Operator) bool { return o.ID == b.ID }) {
				out = append(out, b)
			}
		}
	}
	return out
}

// OnDuty counts the operators a new case in lang would go to now.
func (d *Desk) OnDuty(lang string) int {
	return len(d.recipients(context.Background(), lang, 1, 0))
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
		Created: now, Reassured: now, Packet: sealData(key, data, "packet"), Addr: sealData(key, []byte(h.ChatID), "addr")}
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
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return nil, false, err
	}
	key, err := d.caseKey(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if m.Text != "" {
		d.keep(ctx, id, key, "p"+m.Text)
	}
	if r.State == stateClaimed {
		if o, ok := d.operator(r.Operator); ok {
			text := fmt.Sprintf("[%s] %s", id, m.Text)
			if alert != "" {
				text = alertText(id, alert) + "\n" + text
			}
			if err := d.operators.Send(ctx, chatOf(o), []bot.Reply{{Text: text, Urgent: alert != ""}}); err != nil {
				return nil, true, fmt.Errorf("relay to the operator: %w", err)
			}
			d.audit(ctx, "relayed", id, "from", "person", "alert", alert)
			return nil, true, nil
		}
	}
	// Waiting, or its operator left the roster: an emergency or the duress word makes the case
	// urgent, for everyone on call.
	raised := false
	if (alert == "emergency" || alert == "duress") && r.Tier < 3 {
		r.Tier, r.Reason = 3, alert
		if err := d.save(ctx, r, "tier", "reason"); err == nil {
			d.audit(ctx, "raised", id, "tier", 3)
			raised = true
		}
	}
	if r.State == stateClaimed {
		// This instance may be the first to see that the operator left the roster: the case
		// goes back to those on call (urgent, if just raised), and the message waits in its log
		// for whoever claims it.
		back, err := d.giveBack(ctx, r, operatorRemoved, false)
		if err != nil {
			return nil, true, fmt.Errorf("release the case of a removed operator: %w", err)
		}
		if back {
			return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_released", nil)}}, true, nil
		}
		// Another instance gave it back a moment ago, and told the person.
		if raised {
			d.notify(ctx, r, 1, true, "")
		}
		return nil, true, nil
	}
	if raised {
		d.notify(ctx, r, 1, true, "")
	}
	now := d.now()
	if now.Sub(r.Reassured) < d.reassure {
		return nil, true, nil
	}
	r.Reassured = now
	_ = d.save(ctx, r, "reassured")
	return []bot.Reply{{Text: d.catalog().Render(r.Lang, "handoff_reassure", nil)}}, true, nil
}

// keep adds a relayed message to the case's sealed log: "p" for the person's, "o" for the
// operator's words.
func (d *Desk) keep(ctx context.Context, id string, key []byte, entry string) {
	pipe := d.rdb.Pipeline()
	pipe.RPush(ctx, d.key(id, "log"), sealData(key, []byte(entry), "log"))
	pipe.LTrim(ctx, d.key(id, "log"), -maxLog, -1)
	pipe.Expire(ctx, d.key(id, "log"), d.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		d.log.Warn("handoff: message not kept", "case", id, "err", err)
	}
}

// maxLog bounds a case's log: the newest messages are kept, so that a flood in a case cannot
// grow it for the week a case may last.
const maxLog = 1000

// Leave ends a case because the person stopped: the operator is told, the case is shredded.
func (d *Desk) Leave(ctx context.Context, id string) error {
	r, err := d.load(ctx, id)
	if err != nil || r == nil {
		return err
	}
	if o, ok := d.operator(r.Operator); ok && r.State == stateClaimed {
		_ = d.operators.Send(ctx, chatOf(o), []bot.Reply{{Text: fmt.Sprintf(personLeft, id, id)}})
	}
	d.shred(ctx, r)
	d.audit(ctx, "left", id, "operator", r.Operator)
	d.m.closed.WithLabelValues("person_left").Inc()
	return nil
}

// operator finds an operator of the roster in force by handle.
func (d *Desk) operator(handle string) (Operator, bool) {
	r := d.roster()
	if r == nil || handle == "" {
		return Operator{}, false
	}
	return r.Operator(handle)
}

func chatOf(o Operator) string { return strconv.FormatInt(o.TelegramID, 10) }

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

// tellMessage tells the person of a case one message of the catalog.
func (d *Desk) tellMessage(ctx context.Context, r *record, msg string, params map[string]any) {
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
