package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

const slowDown = "You are sending many messages quickly"

// tap presses the answer a hurried person would: "no" where there is one, else the first
// button that neither leaves nor asks for a counsellor (there is no desk here).
func tap(t *testing.T, f *fixture, chat string, buttons []bot.Button) (string, []bot.Button) {
	t.Helper()
	pick := ""
	for _, b := range buttons {
		id := b.Data[strings.LastIndex(b.Data, "/")+1:]
		switch {
		case id == "no" || id == "en":
			pick = b.Data
		case pick == "" && id != "stop" && id != "person" && id != "now" && id != "wipe":
			pick = b.Data
		}
	}
	if pick == "" {
		t.Fatalf("no button to press among %v", buttons)
	}
	return f.say(t, chat, bot.Message{Button: pick})
}

// TestHumanSpeedIsNeverLimited: a person pressing a button every second or so, unevenly, for
// far longer than a screening (22 messages) takes, is always answered and never told to slow
// down; so is one who types a message every two seconds.
func TestHumanSpeedIsNeverLimited(t *testing.T) {
	f := newFixture(t, nil, redistest.New(t))
	_, buttons := f.say(t, "human", bot.Message{Text: "/start"})
	for i := range 200 {
		f.now = f.now.Add([]time.Duration{400 * time.Millisecond, 1600 * time.Millisecond}[i%2]) // a second on average
		var text string
		text, buttons = tap(t, f, "human", buttons)
		if text == "" || strings.Contains(text, slowDown) {
			t.Fatalf("tap %d got %q; want an answer", i+1, text)
		}
	}
	for i := range 100 {
		f.now = f.now.Add(2 * time.Second)
		if text, _ := f.say(t, "human", bot.Message{Text: fmt.Sprintf("my own words %d", i)}); text == "" || strings.Contains(text, slowDown) {
			t.Fatalf("typed message %d got %q; want an answer", i+1, text)
		}
	}
}

// TestAScriptIsStopped: ten messages a second, buttons or text, soon get one notice and then
// silence; /help, a wipe and leaving still get through, and after a quiet minute the
// conversation goes on.
func TestAScriptIsStopped(t *testing.T) {
	f := newFixture(t, nil, redistest.New(t))
	for _, kind := range []string{"text", "button"} {
		t.Run(kind, func(t *testing.T) {
			chat := "script-" + kind
			_, buttons := f.say(t, chat, bot.Message{Text: "/start", Language: "en"})
			_, buttons = f.press(t, chat, buttons, "en")
			answered, notices := 0, 0
			for range 100 { // ten seconds at ten a second
				f.now = f.now.Add(100 * time.Millisecond)
				m := bot.Message{Text: "spam"}
				if kind == "button" {
					m = bot.Message{Button: buttons[0].Data} // an earlier question's button: "outdated"
				}
				switch text, _ := f.say(t, chat, m); {
				case strings.Contains(text, slowDown):
					notices++
				case text != "":
					answered++
				}
			}
			// The burst (half a minute's worth) and what flows back in ten seconds.
			if notices != 1 || answered > 45 {
				t.Errorf("100 messages in 10 s: %d answered, %d notices; want at most 45 answered and one notice", answered, notices)
			}
			for _, help := range []string{"/help", "help", "ΒΟΗΘΕΙΑ", "sos"} {
				if text, _ := f.say(t, chat, bot.Message{Text: help}); !strings.Contains(text, "112") {
					t.Errorf("%q while limited got %q; want the numbers", help, text)
				}
			}
			// Still at it half a minute after the notice: told once more.
			f.now = f.now.Add(31 * time.Second)
			for range 3 {
				f.say(t, chat, bot.Message{Text: "spam"})
			}
			notices = 0
			for range 50 {
				f.now = f.now.Add(100 * time.Millisecond)
				if text, _ := f.say(t, chat, bot.Message{Text: "spam"}); strings.Contains(text, slowDown) {
					notices++
				}
			}
			if notices != 1 {
				t.Errorf("a script still going 30 s after the notice got %d more; want 1", notices)
			}
			f.now = f.now.Add(time.Minute)
			if text, _ := f.say(t, chat, bot.Message{Text: "spam"}); text == "" || strings.Contains(text, slowDown) {
				t.Errorf("after a quiet minute: %q; want an answer", text)
			}
		})
	}
}

// TestAFloodOfCallsForHelpGetsTheNumbers: a script typing "help" ten times a second is
// limited like any other, but every answer still holds the numbers, and nothing but the
// conversation is kept.
func TestAFloodOfCallsForHelpGetsTheNumbers(t *testing.T) {
	f := newFixture(t, nil, redistest.New(t))
	f.say(t, "helpflood", bot.Message{Text: "/start", Language: "en"})
	for i := range 100 {
		f.now = f.now.Add(100 * time.Millisecond)
		word := []string{"help", "/help", "sos", "Βοήθεια"}[i%4]
		if text, _ := f.say(t, "helpflood", bot.Message{Text: word}); !strings.Contains(text, "112") {
			t.Fatalf("call for help %d (%q) got %q; want the numbers", i+1, word, text)
		}
	}
	if got := testkit.Metric(t, f.reg, "faros_rate_limited_total", "channel", "web"); got < 50 {
		t.Errorf("faros_rate_limited_total = %v; want the flood limited (most of 100)", got)
	}
}

// TestLeavingPassesEveryLimit: after a flood, /wipe still wipes and /stop still ends the
// conversation, and the intake of a flooded channel refuses everything but them.
func TestLeavingPassesEveryLimit(t *testing.T) {
	r := redistest.New(t)
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix, Intake: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	flood := func(chat string) {
		for range 50 {
			_, _ = b.Handle(ctx, bot.Message{Channel: "web", ChatID: chat, Text: "spam"})
		}
	}
	flood("a")
	if _, err := b.Handle(ctx, bot.Message{Channel: "web", ChatID: "b", Text: "hello"}); !errors.Is(err, bot.ErrOverloaded) {
		t.Errorf("an ordinary message after the flood: %v; want ErrOverloaded", err)
	}
	if _, err := b.Handle(ctx, bot.Message{Channel: "api", ChatID: "b", Text: "hello"}); err != nil {
		t.Errorf("another channel's message: %v; want it handled (each channel has its own intake)", err)
	}
	if keys, _ := r.Keys(ctx); slices.ContainsFunc(keys, func(k string) bool {
		return strings.Contains(k, b.Pseudonym("web", "b")) && strings.HasSuffix(k, ":lock")
	}) {
		t.Error("a refused message left its conversation locked")
	}
	for _, text := range []string{"/help", "/HELP", "/stop", "/wipe"} {
		replies, err := b.Handle(ctx, bot.Message{Channel: "web", ChatID: "a", Text: text})
		if err != nil || len(replies) == 0 {
			t.Errorf("%s after the flood: %d replies, %v; want an answer", text, len(replies), err)
		}
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if strings.Contains(k, b.Pseudonym("web", "a")) && r.Client.HExists(ctx, k, "s").Val() {
			t.Errorf("after /wipe, %s holds a session", k)
		}
	}
}

// desk is a bot.Desk with one case for every handoff, which takes every message.
type desk struct {
	mu       sync.Mutex
	relayed  []string
	alerts   []string
	left     []string
	refusing bool // cases are over: Relay says so
	failing  bool // the desk's store is down: Relay fails
	panics   bool // a bug: OnDuty panics
}

func (d *desk) OnDuty(context.Context, string) int {
	if d.panics {
		panic("a bug in the desk")
	}
	return 1
}
func (d *desk) Open(context.Context, bot.Handoff) (string, error) {
	return "CASE1", nil
}
func (d *desk) Relay(_ context.Context, id string, m bot.Message, alert string) ([]bot.Reply, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refusing {
		return nil, false, nil
	}
	if d.failing {
		return nil, false, errors.New("the desk's store is down")
	}
	d.relayed = append(d.relayed, m.Text)
	d.alerts = append(d.alerts, alert)
	if alert == "help" || alert == "emergency" {
		return []bot.Reply{{Text: "(the desk: a counsellor was told)"}}, true, nil
	}
	return nil, true, nil
}
func (d *desk) Leave(_ context.Context, id string, wiped bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if wiped {
		id += " wiped"
	}
	d.left = append(d.left, id)
	return nil
}

// inCase takes a conversation through consent into a case with d, and returns it with a bot
// whose channels take intake messages a second from then on (0: no limit).
func inCase(t *testing.T, d *desk, r *redistest.Redis, intake int) *fixture {
	t.Helper()
	f := newFixture(t, nil, r)
	newBot := func(intake int) {
		var err error
		f.bot, err = bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("test key"), Prefix: r.Prefix,
			Desk: d, Now: func() time.Time { return f.now }, Intake: intake})
		if err != nil {
			t.Fatal(err)
		}
	}
	newBot(0)
	_, buttons := f.say(t, "p", bot.Message{Text: "/start"})
	for _, id := range []string{"en", "safe", "person", "yes", "ekka"} {
		_, buttons = f.press(t, "p", buttons, id)
	}
	f.press(t, "p", buttons, "skip") // no code word: the case opens
	newBot(intake)
	return f
}

// TestNothingIsDroppedInACase: a frightened person writes thirty short messages in a few
// seconds to the counsellor, while the channel is too busy to take more than a few messages a
// second; every one is relayed, in order, with no notice and no refusal.
func TestNothingIsDroppedInACase(t *testing.T) {
	d := &desk{}
	f := inCase(t, d, redistest.New(t), 2)
	var want []string
	for i := range 30 {
		f.now = f.now.Add(100 * time.Millisecond)
		text := fmt.Sprintf("are you there %d", i)
		want = append(want, text)
		if got, _ := f.say(t, "p", bot.Message{Text: text}); got != "" {
			t.Errorf("message %d in the case got %q; want it relayed only", i, got)
		}
	}
	if got := strings.Join(d.relayed, "|"); got != strings.Join(want, "|") {
		t.Errorf("relayed %q; want all 30 in order", d.relayed)
	}
}

// TestADeskThatFailsNeverShowsTheNumbersToAWatcher: in a case, while the desk cannot take
// messages, the duress word gets the innocent line (someone may be holding the phone), and
// anything else the numbers.
func TestADeskThatFailsNeverShowsTheNumbersToAWatcher(t *testing.T) {
	d := &desk{}
	f := inCase(t, d, redistest.New(t), 0)
	d.failing = true
	innocent := shipped(t).Catalog.Render("en", "duress_reply", nil)
	if got, _ := f.say(t, "p", bot.Message{Text: "sunflower"}); got != innocent {
		t.Errorf("the duress word to a failing desk got %q; want the innocent line %q", got, innocent)
	}
	if got, _ := f.say(t, "p", bot.Message{Text: "are you there?"}); !strings.Contains(got, "112") {
		t.Errorf("a message to a failing desk got %q; want the numbers", got)
	}
}

// TestAPanicNeverShowsTheNumbersToAWatcher: a bug that panics while a message is handled
// gives a call for help the numbers, and the duress word no answer at all.
func TestAPanicNeverShowsTheNumbersToAWatcher(t *testing.T) {
	d := &desk{panics: true}
	f := newFixture(t, nil, redistest.New(t))
	var err error
	f.bot, err = bot.New(bot.Config{Redis: f.r.Client, Content: shipped(t), PseudonymKey: []byte("test key"), Prefix: f.r.Prefix, Desk: d})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.say(t, "p", bot.Message{Text: "sunflower"}); got != "" {
		t.Errorf("the duress word, in a panic: %q; want nothing", got)
	}
	if got, _ := f.say(t, "p", bot.Message{Text: "help"}); !strings.Contains(got, "112") {
		t.Errorf("a call for help, in a panic: %q; want the numbers", got)
	}
}

// TestHelpWordsInACase: the plain word for help, in any language, reaches the counsellor as
// a call for help and shows the person the numbers.
func TestHelpWordsInACase(t *testing.T) {
	d := &desk{}
	f := inCase(t, d, redistest.New(t), 0)
	for _, word := range []string{"help", "Βοηθεια", "aide", "NDIHME"} {
		if got, _ := f.say(t, "p", bot.Message{Text: word}); !strings.Contains(got, "112") {
			t.Errorf("%q in a case: %q; want the numbers", word, got)
		}
	}
	if got := strings.Join(d.alerts, ","); got != "help,help,help,help" {
		t.Errorf("alerts %q; want help four times", got)
	}
	if got, _ := f.say(t, "p", bot.Message{Text: "thank you for your help"}); got != "" || d.alerts[4] != "" {
		t.Errorf("thanks in a case: %q, alert %q; want it relayed only", got, d.alerts[4])
	}
}

// TestEmergencyInACase: an emergency word from a person already talking to a counsellor gets
// the emergency numbers and word that the counsellor was alerted; consent is never asked
// again, and nothing says "nothing was sent", not even after a stale "talk to a counsellor"
// button (the consent flow's in_case branch; see flows/testdata/en_in_case.txt).
func TestEmergencyInACase(t *testing.T) {
	d := &desk{}
	f := inCase(t, d, redistest.New(t), 0)
	got, buttons := f.say(t, "p", bot.Message{Text: "he is coming back, help me, sos"})
	for _, want := range []string{"call 112", "(the desk: a counsellor was told)"} {
		if !strings.Contains(got, want) {
			t.Errorf("an emergency word in a case: %q lacks %q", got, want)
		}
	}
	for _, never := range []string{"Do you agree", "Do you want a counsellor", "Nothing was"} {
		if strings.Contains(got, never) {
			t.Errorf("an emergency word in a case: %q says %q", got, never)
		}
	}
	if len(buttons) > 0 && buttons[0].Data != "consent.waiting/numbers" {
		t.Errorf("an emergency word in a case offers %v", buttons)
	}
	if got := strings.Join(d.alerts, ","); got != "emergency" {
		t.Errorf("alerts %q; want the counsellor alerted to the emergency", got)
	}
	got, _ = f.say(t, "p", bot.Message{Button: "menu/person"})
	if strings.Contains(got, "Do you agree") || strings.Contains(got, "Nothing was") {
		t.Errorf("a stale counsellor button in a case: %q", got)
	}
}

// TestACaseOutlivesTheAgeLimit: a day and more into a case, the person's message still goes
// to the counsellor, not to a new conversation; once the case is over, the age limit applies.
func TestACaseOutlivesTheAgeLimit(t *testing.T) {
	d := &desk{}
	f := inCase(t, d, redistest.New(t), 0)
	f.now = f.now.Add(30 * time.Hour)
	if got, _ := f.say(t, "p", bot.Message{Text: "still here"}); got != "" || len(d.relayed) != 1 {
		t.Errorf("30 hours into the case: %q, relayed %q; want the message relayed", got, d.relayed)
	}
	d.refusing = true // the counsellor closed the case
	if got, _ := f.say(t, "p", bot.Message{Text: "hello"}); !strings.Contains(got, "Choose your language") {
		t.Errorf("after the case, past the age limit: %q; want a new conversation", got)
	}
}

// TestAFirstMessageLivesMinutes: a conversation that has only said /start is kept for
// minutes, not hours; the second message gives it the idle time.
func TestAFirstMessageLivesMinutes(t *testing.T) {
	r := redistest.New(t)
	f := newFixture(t, nil, r)
	ctx := context.Background()
	ttl := func() time.Duration {
		keys, _ := r.Keys(ctx)
		for _, k := range keys {
			if strings.HasSuffix(k, ":conv") {
				return r.Client.TTL(ctx, k).Val()
			}
		}
		return 0
	}
	_, buttons := f.say(t, "new", bot.Message{Text: "/start"})
	if got := ttl(); got > 15*time.Minute || got < 14*time.Minute {
		t.Errorf("after /start the session lives %v; want 15 minutes", got)
	}
	f.press(t, "new", buttons, "en")
	if got := ttl(); got < 2*time.Hour-time.Minute {
		t.Errorf("after the second message the session lives %v; want the idle time, 2h", got)
	}
}

// TestLimitMetrics: refused and limited messages are counted by channel.
func TestLimitMetrics(t *testing.T) {
	r := redistest.New(t)
	reg := prometheus.NewRegistry()
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix, Intake: 1000,
		Limits: bot.Limits{Texts: bot.Bucket{PerMinute: 2}}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, _ = b.Handle(context.Background(), bot.Message{Channel: "web", ChatID: "m", Text: "hi"})
	}
	if got := testkit.Metric(t, reg, "faros_rate_limited_total", "channel", "web"); got != 4 {
		t.Errorf("faros_rate_limited_total = %v; want 4 (a burst of 1 of 5)", got)
	}
}

// TestOverTheirBucketsCallsForHelpAndTheDuressWordWriteNothing: beyond its own bucket a call
// for help still gets the numbers, and the duress word its innocent line (never the numbers,
// never a notice), and neither steps or saves the conversation.
func TestOverTheirBucketsCallsForHelpAndTheDuressWordWriteNothing(t *testing.T) {
	r := redistest.New(t)
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
		Limits: bot.Limits{Help: bot.Bucket{PerMinute: 2}, Duress: bot.Bucket{PerMinute: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	say := func(text string) string {
		t.Helper()
		replies, err := b.Handle(ctx, bot.Message{Channel: "web", ChatID: "over", Text: text, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, r := range replies {
			texts = append(texts, r.Text)
		}
		return strings.Join(texts, "\n")
	}
	say("/start")
	say("help") // the bucket's one token: the help flow, saved
	session := r.Prefix + ":{p:" + b.Pseudonym("web", "over") + "}:conv"
	before := r.Client.HGet(ctx, session, "s").Val()
	for range 5 {
		if got := say("help"); !strings.Contains(got, "112") {
			t.Errorf("help over its bucket got %q; want the numbers", got)
		}
	}
	innocent := shipped(t).Catalog.Render("en", "duress_reply", nil)
	for i := range 5 {
		if got := say("sunflower"); got != innocent {
			t.Errorf("duress word %d got %q; want the innocent line", i+1, got)
		}
	}
	if after := r.Client.HGet(ctx, session, "s").Val(); after == before {
		t.Error("the duress word within its bucket did not step the conversation")
	}
	before = r.Client.HGet(ctx, session, "s").Val()
	for range 3 {
		say("sunflower")
		say("help")
	}
	if after := r.Client.HGet(ctx, session, "s").Val(); after != before {
		t.Errorf("calls over their buckets changed the session:\n%s\nto\n%s", before, after)
	}
}

// TestIntakeTakesOnlyWhatItAdmits: a message over its conversation's bucket does not spend the
// channel's intake, and a message the intake refuses gets its token back: it comes again and
// must not pay twice, or a person would be told to slow down for the channel's overload.
func TestIntakeTakesOnlyWhatItAdmits(t *testing.T) {
	r := redistest.New(t)
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
		Intake: 2, Limits: bot.Limits{Texts: bot.Bucket{PerMinute: 2}}}) // a burst of one typed message
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	say := func(chat string) ([]bot.Reply, error) {
		return b.Handle(ctx, bot.Message{Channel: "api", ChatID: chat, Text: "hello", Language: "en"})
	}
	if _, err := say("x"); err != nil {
		t.Fatal(err) // the intake's first
	}
	if replies, err := say("x"); err != nil || len(replies) != 1 || !strings.Contains(replies[0].Text, slowDown) {
		t.Fatalf("x's second message: %v, %v; want the notice", replies, err)
	}
	if _, err := say("y"); err != nil {
		t.Fatalf("y's message: %v; want the intake's second, not spent by x's limited one", err)
	}
	if _, err := say("z"); !errors.Is(err, bot.ErrOverloaded) {
		t.Fatalf("z's message: %v; want ErrOverloaded", err)
	}
	time.Sleep(600 * time.Millisecond) // the intake has room again
	if replies, err := say("z"); err != nil || len(replies) == 0 || strings.Contains(replies[0].Text, slowDown) {
		t.Errorf("z's message again: %v, %v; want it handled with the token it got back", replies, err)
	}
}
