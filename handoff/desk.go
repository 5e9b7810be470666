// Package handoff brings a person who agreed to it to an EKKA operator on call, and keeps
// them talking through the bot without either learning who the other is: a durable queue of
// cases on Redis Streams, notification and claim, the relay both ways, escalation, and cases
// sealed with their own key until they close. Who the operators are, where they are reached
// and when they are on call is package roster's.
package handoff

// The Desk: its configuration, New, who a case goes to (recipients), and how it reaches
// operators (send) and people (tell). Elsewhere, by concern:
//
//	person.go    the person's side, as the bot calls it: Open, Relay, Leave
//	operator.go  an operator's messages: Route, commands, buttons, /duty, /cases, /stats
//	words.go     where an operator's words go: the case they are about, relayed or noted
//	claim.go     /claim and /release
//	close.go     /close: outcome, referral, confirmation, goodbye
//	release.go   a case given back to those on call (giveBack); a removed operator's cases
//	queue.go     the queue, notification, escalation and the watchdog (Run, Tick)
//	packet.go    what an operator reads: the packet, its rendering, the operators' messages
//	cases.go     a case's record in Redis, and the scripts that change it
//	log.go       a case's sealed log, and the messages on operators' phones
//	oncall.go    who is on call now (OnDuty)
//	crypt.go     each case sealed with its own key; audit.go the audit trail (Trail)

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	Consumer string
	// Poke, if set, is told whenever an operator's board may have changed: operator op was
	// sent something about case id (ring: it makes a sound; urgent: it must be noticed), or,
	// with op "", anything happened to case id. The desk in the browser reads the board again.
	// It carries no words of anyone's.
	Poke       func(op, id string, ring, urgent bool)
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
	poke       func(op, id string, ring, urgent bool)
	log        *slog.Logger
	now        func() time.Time
	m          *metrics

	bg backgroundWork // what later started

	mu         sync.Mutex
	onCall     []roster.Operator // cached for a few seconds: OnDuty runs on every message
	cachedT    time.Time
	cachedR    *roster.Roster // the roster onCall was read from: a new one is read at once
	refreshing chan struct{}  // closed when the reading of onCall in flight ends; nil if none
	dutyGen    int            // bumped by /duty: a reading begun before it must not be kept
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
		poke: cfg.Poke, log: cfg.Logger, now: cfg.Now, m: newMetrics(cfg.Registerer),
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

// send delivers replies to operator o, at their address, and pokes their desk.
func (d *Desk) send(ctx context.Context, o roster.Operator, replies []bot.Reply) error {
	id, ring, urgent := "", false, false
	for _, r := range replies {
		id, ring, urgent = cmp.Or(id, r.Tag), ring || r.Ring, urgent || r.Ring && r.Urgent
	}
	if d.poke != nil {
		d.poke(o.ID, id, ring, urgent)
	}
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
