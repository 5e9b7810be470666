package bot

import (
	"cmp"
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/internal/seal"
	"github.com/faros-project/faros/stats"
)

// Desk takes handoffs to operators (package handoff). Without one, nobody is on duty: the
// flows tell the person so, and handoffs are only counted.
type Desk interface {
	// OnDuty counts the operators on duty for a conversation in lang. It must answer quickly,
	// within ctx: it runs on every message the flows see.
	OnDuty(ctx context.Context, lang string) int
	// Open starts a case and returns its id.
	Open(ctx context.Context, h Handoff) (caseID string, err error)
	// Relay passes a person's message in case caseID to its operator, with alert saying what
	// else the operator should know ("help", "emergency", "duress"; "" for none), and returns what the
	// person is told (after a help or emergency alert, that a counsellor was told, if one was).
	// ok is false when the case is over: the flows take the message.
	Relay(ctx context.Context, caseID string, m Message, alert string) (replies []Reply, ok bool, err error)
	// Leave ends case caseID because the person stopped the conversation, or wiped it: a
	// counsellor reads a wipe as a possible danger sign.
	Leave(ctx context.Context, caseID string, wiped bool) error
}

// caseLife is how long a session in a case with an operator is kept without a message: as
// long as the desk keeps an unclosed case.
const caseLife = 7 * 24 * time.Hour

// Handoff is what Bot gives a Desk when a person agrees to talk to an operator.
type Handoff struct {
	Pseudonym, Channel string
	ChatID             string // for delivering the operator's words: the desk keeps it encrypted
	State              dialog.State
	Tier               int
	Reason             string
	Indicators         []string
	Answers            []dialog.Answer   // every screening question answered, in question order
	Secrets            map[string]string // typed answers the state never kept, such as a code word
}

// Config configures a Bot. Only Redis and Content are required.
type Config struct {
	Redis        redis.UniversalClient
	Content      *Content
	PseudonymKey []byte           // HMAC key of the pseudonyms; nil: a random key (pseudonyms change per run)
	Idle         time.Duration    // a session expires after this long without a message; 0: 2h
	MaxAge       time.Duration    // and never lives longer than this; 0: 24h
	Prefix       string           // of every Redis key; "": "faros"
	Desk         Desk             // nil: no operators
	Stats        *stats.Counter   // the weekly statistics the flows count (count:); nil: none kept
	Wipers       map[string]Wiper // by channel: delete a wiped conversation's messages; none: nothing to delete
	Limits       Limits           // what one conversation may send; zero: see Limits
	Intake       int              // messages a second each channel hands in, all conversations together; 0: no limit
	Logger       *slog.Logger     // nil: discard
	Registerer   prometheus.Registerer
	Now          func() time.Time // nil: time.Now
}

// Bot handles messages: the core of Faros. It is safe for concurrent use.
type Bot struct {
	content atomic.Pointer[Content]
	store   store
	key     []byte
	maxAge  time.Duration
	desk    Desk
	stats   *stats.Counter
	wipers  map[string]Wiper
	log     *slog.Logger
	now     func() time.Time
	m       *metrics
	turns   turns
	langs   langMemory
	intake  intake
}

var _ Handler = (*Bot)(nil)

// New returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Redis == nil || cfg.Content == nil {
		return nil, errors.New("bot: Redis and Content are required")
	}
	b := &Bot{
		store: store{rdb: cfg.Redis, pipe: newPipe(cfg.Redis), prefix: cmp.Or(cfg.Prefix, "faros"), idle: cmp.Or(cfg.Idle, 2*time.Hour),
			lockTTL: 10 * time.Second, lockWait: 15 * time.Second, limits: cfg.Limits.withDefaults()},
		key:    cfg.PseudonymKey,
		maxAge: cmp.Or(cfg.MaxAge, 24*time.Hour),
		desk:   cfg.Desk,
		stats:  cfg.Stats,
		wipers: cfg.Wipers,
		log:    cfg.Logger,
		now:    cfg.Now,
		m:      newMetrics(cfg.Registerer),
		intake: intake{perSecond: cfg.Intake},
	}
	if len(b.key) == 0 {
		b.key = []byte(newToken())
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.content.Store(cfg.Content)
	return b, nil
}

// SetContent swaps the flows and messages; conversations go on with the new ones.
func (b *Bot) SetContent(c *Content) { b.content.Store(c) }

// Content returns the flows and messages in use.
func (b *Bot) Content() *Content { return b.content.Load() }

// Pseudonym is the id Faros keeps for a conversation of a channel.
func (b *Bot) Pseudonym(channel, chatID string) string { return pseudonym(b.key, channel, chatID) }

// firstIdle is how long a conversation that has handled only its first message (a web page's
// "/start") is kept: a flood of new conversations must not hold memory for hours.
const firstIdle = 15 * time.Minute

// Handle runs one message through the conversation. When Redis or the content fails, the
// reply is a static text with the emergency numbers. A message over its conversation's limits
// gets one notice, then nothing for a while (a call for help gets the numbers all the same);
// one its channel cannot take this second gets ErrOverloaded, for the channel to bring again
// (never one in a case with a counsellor, nor a call for help, leaving or wiping). It returns
// ErrDuplicate for a message handled before; with m.Replay, the replies it was given come
// with it if it was the conversation's last message and came again within minutes, for a
// channel whose first answer may have died with its instance.
func (b *Bot) Handle(ctx context.Context, m Message) (replies []Reply, err error) {
	start := time.Now()
	c := b.content.Load()
	hint := c.Catalog.Match(m.Language)
	lang := hint
	vital := dialog.Ordinary
	defer func() {
		if r := recover(); r != nil {
			b.m.errors.WithLabelValues("panic").Inc()
			b.log.Error("handle: recovered from a panic", "channel", m.Channel, "panic", fmt.Sprint(r))
			replies, err = b.offline(hint), nil
			if vital == dialog.Watched {
				replies = nil // someone may be watching: silence (not failed: the flows may be what panicked)
			}
		}
		if err == nil {
			b.m.in.WithLabelValues(m.Channel, langLabel(lang)).Inc()
			b.m.out.WithLabelValues(m.Channel, langLabel(lang)).Add(float64(len(replies)))
			b.m.latency.WithLabelValues(m.Channel).Observe(time.Since(start).Seconds())
		}
	}()

	in := input(m)
	vital = c.Engine.Vital(in)
	if m.Edited && vital == dialog.Ordinary {
		return nil, nil // answered as it was first written; an edit that calls for help is not
	}

	p := pseudonym(b.key, m.Channel, m.ChatID)
	defer b.turns.take(p)()
	came := time.Now()
	err = b.settle(func() error {
		replies, err = b.step(ctx, c, m, p, in, vital, hint, &lang, came)
		return err
	})
	if errors.Is(err, errMoved) { // another instance saved it each time: a storm, not a person
		return b.unstored(c, m, p, in, vital, lang, err), nil
	}
	return replies, err
}

// settle runs try again while it returns errMoved (another message saved the conversation
// meanwhile), with a short jittered pause, for lockWait at most; then returns what it returned.
func (b *Bot) settle(try func() error) error {
	start := time.Now()
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := try()
		if !errors.Is(err, errMoved) || time.Since(start) > b.store.lockWait {
			return err
		}
		time.Sleep(wait/2 + mrand.N(wait/2+1))
	}
}

// step is one try at handling m in conversation p. It returns errMoved when another message
// saved the conversation after this one read it, before this one did anything but read: m
// is then to be stepped again. lang is set to the conversation's language once known.
func (b *Bot) step(ctx context.Context, c *Content, m Message, p string, in dialog.Input, vital dialog.Vital, hint string, lang *string, came time.Time) ([]Reply, error) {
	now := b.now()
	class := class(vital, m)
	bg, err := b.store.begin(ctx, p, m.ID, class, now)
	switch {
	case errors.Is(err, ErrDuplicate):
		b.m.duplicates.WithLabelValues(m.Channel).Inc()
		return b.replayed(m, bg.data), ErrDuplicate
	case err != nil:
		return b.unstored(c, m, p, in, vital, *lang, err), nil
	case bg.wiped > came.UnixMicro() && vital == dialog.Ordinary:
		// The person wiped the chat after writing this (on another instance, while this one
		// waited): answering it would put words back on the screen. It goes with the rest. A
		// call for help, leaving or wiping is answered all the same, as in a new conversation.
		b.unsay(ctx, m)
		return nil, nil
	}

	var s session
	// A new conversation of the web chat, whose ids anyone can make up, is kept for minutes
	// until its second message.
	fresh := session{State: dialog.State{Lang: hint}, Started: now.Unix(), created: m.Channel == "web"}
	expired := func() bool { return now.Sub(time.Unix(s.Started, 0)) > b.maxAge }
	if bg.data == nil || unmarshalSession(bg.data, &s) != nil || expired() && s.Case == "" {
		// A new conversation, or one past its age. An open case outlives the age limit: the
		// person may be talking with a counsellor.
		s = fresh
	} else {
		*lang = s.State.Lang
	}
	if s.Case == "" { // in a case nothing the person writes is dropped or refused
		if bg.over {
			b.m.limited.WithLabelValues(m.Channel).Inc()
			return b.limited(ctx, c, p, bg, m, in, !bg.quiet, cmp.Or(*lang, b.langs.get(p), hint), now), nil
		}
		if vital == dialog.Ordinary && !b.intake.allow(m.Channel) {
			b.m.refused.WithLabelValues(m.Channel).Inc() // nothing was written: nothing to give back
			return nil, ErrOverloaded
		}
	}
	var relayed []Reply // what the desk answered a message the flows answer too
	if s.Case != "" {
		// The desk hears the message once: the conversation is locked before.
		if err := b.store.lock(ctx, p, &bg); err != nil {
			return b.unlocked(c, m, p, in, vital, *lang, err)
		}
		replies, done := b.relay(ctx, c, &s, m)
		if done {
			return replies, b.save(ctx, p, bg, &s, m, replies)
		}
		relayed = replies
		if s.Case == "" && expired() { // the case is over, and with it the age limit's grace
			s, relayed = fresh, nil
		}
	}
	if b.desk != nil {
		in.OnDuty = b.desk.OnDuty(ctx, s.State.Lang)
	}
	in.InCase = s.Case != ""  // the flows never run consent again in a case
	in.NoDesk = b.desk == nil // nor promise a counsellor who does not exist
	next, outs, err := c.Engine.Step(s.State, in)
	if err != nil {
		_ = b.store.unlock(ctx, p, bg, time.Time{}, m.MsgID) // the lock expires if this fails
		b.m.errors.WithLabelValues("content").Inc()
		b.log.Error("handle: the flows failed", "channel", m.Channel, "flow", s.State.Flow, "node", s.State.Node, "err", err)
		return b.failed(c, in, vital, *lang), nil
	}
	if bg.token == "" && acts(outs) {
		if err := b.store.lock(ctx, p, &bg); err != nil {
			return b.unlocked(c, m, p, in, vital, *lang, err)
		}
	}
	s.State, *lang = next, next.Lang
	b.langs.set(p, *lang)
	return b.apply(ctx, c, p, bg, &s, m, outs, relayed)
}

// acts reports whether a step's outputs do more than answer and count: open a case or end
// the conversation. Such a step is done under the conversation's lock. (Statistics are
// counted once the step is saved.)
func acts(outs []dialog.Output) bool {
	return slices.ContainsFunc(outs, func(o dialog.Output) bool { return o.Kind == dialog.Handoff || o.Kind == dialog.End })
}

// unstored answers m when the conversation store is unavailable: the numbers, or for the
// duress word the innocent line.
func (b *Bot) unstored(c *Content, m Message, p string, in dialog.Input, vital dialog.Vital, lang string, err error) []Reply {
	b.m.errors.WithLabelValues("redis").Inc()
	b.log.Warn("handle: the conversation store is unavailable; answering with the numbers", "channel", m.Channel, "err", err)
	if l := b.langs.get(p); l != "" {
		lang = l
	}
	return b.failed(c, in, vital, lang)
}

// failed is what a message gets when its conversation cannot go on: the numbers; for the
// duress word the innocent line of a new conversation instead (someone may be watching), or
// nothing if even that cannot be given.
func (b *Bot) failed(c *Content, in dialog.Input, vital dialog.Vital, lang string) []Reply {
	if vital == dialog.Watched {
		return b.fresh(c, in, lang)
	}
	return b.offline(lang)
}

// unlocked is what a message gets when its conversation could not be locked: errMoved, to be
// stepped again, or the answer of an unavailable store.
func (b *Bot) unlocked(c *Content, m Message, p string, in dialog.Input, vital dialog.Vital, lang string, err error) ([]Reply, error) {
	if errors.Is(err, errMoved) {
		return nil, err
	}
	return b.unstored(c, m, p, in, vital, lang, err), nil
}

// apply does what the flows' outputs ask beyond words (open a case, count a statistic, end
// and wipe the conversation), saves the conversation, and returns the replies: the flows'
// words, then the desk's (relayed).
func (b *Bot) apply(ctx context.Context, c *Content, p string, bg begun, s *session, m Message, outs []dialog.Output, relayed []Reply) ([]Reply, error) {
	wipe, secret := false, false
	for _, o := range outs {
		switch {
		case o.Kind == dialog.Handoff && s.Case == "": // with a case open, relay alerted the operator
			s.Case = b.handoff(ctx, p, m, s.State, o)
			secret = len(o.Secrets) > 0 // this message was the code word
		case o.Kind == dialog.End:
			// Every end deletes the chat's messages, as /wipe does: a person who leaves in a
			// hurry must not leave the screening's questions on the screen. o.Wipe tells a
			// counsellor the person wiped (not only left).
			wipe = true
			if s.Case != "" {
				if err := b.desk.Leave(ctx, s.Case, o.Wipe); err != nil {
					b.log.Error("handle: the case was not closed for the person", "channel", m.Channel, "err", err)
				}
				s.Case = ""
			}
		}
	}
	replies := joined(render(c, outs), relayed) // the flows' numbers, then word of the counsellor
	if wipe {
		b.wipe(ctx, p, bg, m)
		b.counts(ctx, m.Channel, s.State, outs)
		for i := range replies {
			replies[i].Forget = true
		}
		return replies, nil
	}
	if err := b.save(ctx, p, bg, s, m, replies); err != nil {
		return nil, err
	}
	b.counts(ctx, m.Channel, s.State, outs) // once saved: a step done again is not counted twice
	// After the save: the deletion may wait on Telegram, and must not hold the conversation's
	// lock while the new case waits to be saved.
	if secret && b.unsay(ctx, m) && len(replies) > 0 {
		replies[0].Text = c.Catalog.Render(s.State.Lang, "codeword_deleted", nil) + "\n\n" + replies[0].Text
	}
	return replies, nil
}

// limited answers a message over its conversation's limit, outside a case. A call for help
// or the duress word is answered as a new conversation would be (the numbers; the innocent
// line), without a step of this one; anything else gets one notice (notice), then nothing
// for a while. The person's message id is kept for a wipe all the same.
func (b *Bot) limited(ctx context.Context, c *Content, p string, bg begun, m Message, in dialog.Input, notice bool, lang string, now time.Time) []Reply {
	answered := bg.class == "help" || bg.class == "duress"
	var noticed time.Time
	if notice && !answered {
		noticed = now
	}
	if err := b.store.unlock(ctx, p, bg, noticed, m.MsgID); err != nil {
		b.log.Warn("handle: the notice to slow down was not noted", "err", err)
	}
	switch {
	case answered:
		return b.fresh(c, in, lang)
	case notice:
		return []Reply{{Text: c.Catalog.Render(lang, "slow_down", nil)}}
	}
	return nil
}

// fresh answers in as the first input of a new conversation in lang would be answered,
// reading and writing nothing: what a call for help or the duress word gets when its
// conversation cannot be stepped.
func (b *Bot) fresh(c *Content, in dialog.Input, lang string) []Reply {
	_, outs, err := c.Engine.Step(dialog.State{Lang: lang}, in)
	switch {
	case err == nil:
		return render(c, outs)
	case c.Engine.Vital(in) == dialog.Watched:
		return nil // the flows fail: silence is innocent, the numbers are not
	}
	return b.offline(lang)
}

// wipe deletes everything Faros holds about a conversation, and has the channel delete the
// chat's messages from the person's device where it can.
func (b *Bot) wipe(ctx context.Context, p string, bg begun, m Message) {
	b.langs.set(p, "")
	w := b.wipers[m.Channel]
	ids, err := b.store.wipe(ctx, p, bg, m.MsgID)
	if err != nil {
		b.m.errors.WithLabelValues("wipe").Inc()
		b.log.Error("handle: the conversation was not wiped", "channel", m.Channel, "err", err)
		return
	}
	b.m.wipes.WithLabelValues(m.Channel).Inc()
	if w != nil {
		if err := w.Wipe(ctx, m.ChatID, ids); err != nil {
			b.m.errors.WithLabelValues("wipe").Inc()
			b.log.Warn("handle: the channel did not delete every message", "channel", m.Channel, "err", err)
		}
	}
}

// Remember records the ids a channel gave the bot's messages in a chat, queued at queued (zero
// if unknown), so that a wipe can delete them (Telegram: for 48 hours). When the chat was
// wiped after they were queued (they were on their way during the wipe, which could not know
// their ids), it reports stale: the caller deletes them now. A conversation that began after
// the wipe is never touched: its messages were queued after it.
func (b *Bot) Remember(ctx context.Context, channel, chatID string, msgIDs []string, queued time.Time) (stale bool, err error) {
	return b.store.remember(ctx, pseudonym(b.key, channel, chatID), msgIDs, queued)
}

// save stores the session (deleting it when the conversation ended), marks m seen, keeps the
// replies to m for a redelivery and unlocks. It returns errMoved when another message saved
// the conversation since bg's began without a lock: m is to be stepped again.
func (b *Bot) save(ctx context.Context, p string, bg begun, s *session, m Message, replies []Reply) error {
	var data []byte
	if !s.State.Ended {
		data = s.marshal()
	}
	ttl := b.store.idle
	if s.created {
		ttl = min(ttl, firstIdle)
	}
	if s.Case != "" {
		ttl = max(ttl, caseLife) // an operator may answer hours later: the way back must stay
	}
	var kept []byte
	if m.Replay && m.ID != "" {
		plain, _ := json.Marshal(replies)
		kept = seal.Seal(b.replayKey(m), plain, hashID(m.ID))
	}
	err := b.store.commit(ctx, p, bg, save{data: data, ttl: ttl, msgID: m.ID, chatID: m.MsgID, replies: kept})
	if errors.Is(err, errMoved) && bg.token == "" {
		return err
	}
	if err != nil {
		b.m.errors.WithLabelValues("save").Inc()
		b.log.Warn("handle: the conversation was not saved", "channel", m.Channel, "err", err)
	}
	return nil
}

// replayKey seals the replies kept for a redelivery. It is derived from the service's key and
// the conversation's id, which Redis never holds: a copy of Redis alone cannot read them.
func (b *Bot) replayKey(m Message) cipher.AEAD {
	h := hmac.New(sha256.New, b.key)
	h.Write([]byte("faros replies v1\x00" + m.Channel + ":" + m.ChatID))
	return seal.AEAD(h.Sum(nil))
}

// replayed opens the replies kept for redelivered message m; nil if none were kept.
func (b *Bot) replayed(m Message, box []byte) []Reply {
	if !m.Replay || box == nil {
		return nil
	}
	var replies []Reply
	plain, err := seal.Open(b.replayKey(m), box, hashID(m.ID))
	if err != nil || json.Unmarshal(plain, &replies) != nil {
		return nil
	}
	return replies
}

// input turns a message into the engine's input. Button data is "QUESTION/CHOICE".
func input(m Message) dialog.Input {
	if m.Button != "" {
		q, c, ok := strings.Cut(m.Button, "/")
		if !ok {
			return dialog.Input{Choice: m.Button}
		}
		return dialog.Input{Choice: c, Question: q}
	}
	return dialog.Input{Text: m.Text}
}

// render turns a step's outputs into replies: consecutive messages are joined into one
// reply (fewer sends, kinder to Telegram's per-chat pace), which carries the buttons of the
// question that ends it.
func render(c *Content, outs []dialog.Output) []Reply {
	var replies []Reply
	var cur *Reply
	for _, o := range outs {
		if o.Kind != dialog.Say && o.Kind != dialog.Ask {
			continue
		}
		text, buttons := c.Catalog.Show(o)
		if cur == nil {
			replies = append(replies, Reply{Lang: o.Lang})
			cur = &replies[len(replies)-1]
		}
		if cur.Text != "" {
			cur.Text += "\n\n"
		}
		if cur.Lang != o.Lang {
			cur.Lang = "" // texts of two languages joined
		}
		cur.Text += text
		cur.Urgent = cur.Urgent || o.Urgent
		for _, btn := range buttons {
			data := o.Question + "/" + btn.ID
			if len(data) > 64 {
				data = btn.ID
			}
			cur.Buttons = append(cur.Buttons, Button{Data: data, Label: btn.Label})
		}
		if o.Kind == dialog.Ask {
			cur = nil
		}
	}
	return replies
}

// offline is the reply when the conversation cannot go on: the numbers, in the person's
// language if known, else in every language.
func (b *Bot) offline(lang string) []Reply {
	c := b.content.Load()
	return []Reply{{Text: c.Catalog.Render(lang, "offline_numbers", nil), Urgent: true}}
}

func langLabel(lang string) string {
	if lang == "" {
		return "none"
	}
	return lang
}

// Fresh answers a message that a channel must not hand to Handle (a flood from its address)
// as the first message of a new conversation would be answered, reading and writing nothing:
// a call for help gets the numbers, the duress word the innocent line, leaving its goodbye.
func (b *Bot) Fresh(m Message) []Reply {
	c := b.content.Load()
	return b.fresh(c, input(m), c.Catalog.Match(m.Language))
}

// Live reports whether a conversation of a channel exists (it has a session in Redis), and
// whether it is in a case with a counsellor.
func (b *Bot) Live(ctx context.Context, channel, chatID string) (live, inCase bool, err error) {
	data, err := b.store.rdb.HGet(ctx, b.store.key(pseudonym(b.key, channel, chatID), "conv"), "s").Bytes()
	if errors.Is(err, redis.Nil) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("live: %w", err)
	}
	var s session
	_ = unmarshalSession(data, &s)
	return true, s.Case != "", nil
}

// Vital reports whether a message must pass every limit and intake check: a call for help
// (a command, a help or emergency word, the duress word), leaving or wiping.
func (b *Bot) Vital(m Message) bool {
	return b.content.Load().Engine.Vital(input(m)) != dialog.Ordinary
}
