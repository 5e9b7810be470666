package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/internal/redistest"
)

func shipped(t testing.TB) *bot.Content {
	t.Helper()
	e, cat, err := content.Load(content.Built())
	if err != nil {
		t.Fatal(err)
	}
	return &bot.Content{Engine: e, Catalog: cat}
}

type fixture struct {
	r   *redistest.Redis
	bot *bot.Bot
	log *bytes.Buffer
	reg *prometheus.Registry
	now time.Time
}

func newFixture(t testing.TB, rdb redis.UniversalClient, r *redistest.Redis) *fixture {
	t.Helper()
	f := &fixture{r: r, log: &bytes.Buffer{}, reg: prometheus.NewRegistry(), now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	if rdb == nil {
		rdb = r.Client
	}
	b, err := bot.New(bot.Config{
		Redis: rdb, Content: shipped(t), PseudonymKey: []byte("test key"), Prefix: r.Prefix,
		Logger: slog.New(slog.NewJSONHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return f.now }, Registerer: f.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	return f
}

// say sends one message and returns the replies' text and the last reply's buttons.
func (f *fixture) say(t testing.TB, chat string, m bot.Message) (string, []bot.Button) {
	t.Helper()
	m.Channel, m.ChatID = "web", chat
	replies, err := f.bot.Handle(context.Background(), m)
	if err != nil {
		t.Fatalf("Handle(%q): %v", m.Text+m.Button, err)
	}
	var texts []string
	for _, r := range replies {
		texts = append(texts, r.Text)
	}
	if len(replies) == 0 {
		return "", nil
	}
	return strings.Join(texts, "\n"), replies[len(replies)-1].Buttons
}

// press presses the button whose data ends with "/"+id.
func (f *fixture) press(t testing.TB, chat string, buttons []bot.Button, id string) (string, []bot.Button) {
	t.Helper()
	for _, b := range buttons {
		if strings.HasSuffix(b.Data, "/"+id) {
			return f.say(t, chat, bot.Message{Button: b.Data})
		}
	}
	t.Fatalf("no button %q among %v", id, buttons)
	return "", nil
}

func TestConversationInRedis(t *testing.T) {
	r := redistest.New(t)
	f := newFixture(t, nil, r)
	text, buttons := f.say(t, "chat-4711", bot.Message{Text: "/start", Language: "el-GR"})
	if !strings.Contains(text, "Διάλεξε τη γλώσσα σου") || len(buttons) != len(shipped(t).Catalog.Languages())+1 {
		t.Fatalf("first reply %q with %d buttons; want the language question", text, len(buttons))
	}
	_, buttons = f.press(t, "chat-4711", buttons, "el")
	text, _ = f.press(t, "chat-4711", buttons, "safe")
	if !strings.Contains(text, "Τι θέλεις να κάνεις;") {
		t.Fatalf("after the safety check: %q; want the menu", text)
	}
	// One reply per step: the privacy note and the menu question travel together.
	if replies, _ := f.bot.Handle(context.Background(), bot.Message{Channel: "web", ChatID: "chat-4711", Text: "/help"}); len(replies) != 1 || !replies[0].Urgent {
		t.Errorf("/help gave %d replies (urgent %v); want one urgent reply", len(replies), len(replies) > 0 && replies[0].Urgent)
	}

	ctx := context.Background()
	keys, err := r.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		ttl := r.Client.TTL(ctx, k).Val()
		if ttl <= 0 {
			t.Errorf("key %s has no TTL", k)
		}
		if strings.Contains(k, "4711") {
			t.Errorf("key %s holds the raw chat id", k)
		}
		if v := r.Value(ctx, k); strings.Contains(v, "4711") {
			t.Errorf("key %s holds the raw chat id in its value", k)
		}
		if strings.HasSuffix(k, ":conv") && (ttl > 2*time.Hour || ttl < 2*time.Hour-time.Minute) {
			t.Errorf("session TTL %v; want the idle time, 2h", ttl)
		}
	}
	if strings.Contains(f.log.String(), "4711") || strings.Contains(f.log.String(), "Διάλεξε") {
		t.Errorf("the log holds a chat id or a message: %s", f.log)
	}
}

// TestDuplicateAnsweredOnce: a redelivered message is not handled again. Where the channel
// answers in its response (Replay), the last message's replies come with the redelivery, for
// an instance that died before its answer left; an older message's do not, and Redis holds
// them sealed.
func TestDuplicateAnsweredOnce(t *testing.T) {
	r := redistest.New(t)
	f := newFixture(t, nil, r)
	ctx := context.Background()

	tg := bot.Message{Channel: "telegram", ChatID: "42", ID: "1001", Text: "/start"}
	if replies, err := f.bot.Handle(ctx, tg); err != nil || len(replies) != 1 {
		t.Fatalf("first delivery: %d replies, %v", len(replies), err)
	}
	if replies, err := f.bot.Handle(ctx, tg); !errors.Is(err, bot.ErrDuplicate) || len(replies) != 0 {
		t.Errorf("second delivery: %d replies, %v; want none and ErrDuplicate", len(replies), err)
	}

	m := bot.Message{Channel: "api", ChatID: "conv-42", ID: "k-1", Text: "/start", Replay: true}
	first, err := f.bot.Handle(ctx, m)
	if err != nil || len(first) != 1 {
		t.Fatalf("first delivery: %d replies, %v", len(first), err)
	}
	again, err := f.bot.Handle(ctx, m)
	if !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second delivery: %v; want ErrDuplicate", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("second delivery: the replies differ from the first (-first +again):\n%s", diff)
	}
	keys, _ := r.Keys(ctx)
	kept := 0
	for _, k := range keys {
		if !strings.HasSuffix(k, ":reply") {
			continue
		}
		kept++
		if ttl := r.Client.TTL(ctx, k).Val(); ttl <= 0 || ttl > 5*time.Minute {
			t.Errorf("the kept replies live %v; want at most 5 minutes", ttl)
		}
		if v := r.Value(ctx, k); strings.Contains(v, first[0].Buttons[0].Label) {
			t.Errorf("Redis holds the replies in clear: %q", v)
		}
	}
	if kept != 1 {
		t.Errorf("%d conversations keep replies; want the API's only", kept)
	}

	// The person answers; the first message comes again: it was answered, nothing to repeat.
	language := m
	language.ID, language.Text, language.Button = "k-2", "", first[0].Buttons[0].Data
	if _, err := f.bot.Handle(ctx, language); err != nil {
		t.Fatalf("a new message id: %v", err)
	}
	if replies, err := f.bot.Handle(ctx, m); !errors.Is(err, bot.ErrDuplicate) || len(replies) != 0 {
		t.Errorf("an older message again: %d replies, %v; want none and ErrDuplicate", len(replies), err)
	}
	if replies, err := f.bot.Handle(ctx, language); !errors.Is(err, bot.ErrDuplicate) || len(replies) == 0 {
		t.Errorf("the last message again: %d replies, %v; want its replies and ErrDuplicate", len(replies), err)
	}

	// A conversation that ends keeps nothing of its last words, also when the last message
	// came without an id.
	stop := m
	stop.ID, stop.Text = "", "/stop"
	if _, err := f.bot.Handle(ctx, stop); err != nil {
		t.Fatal(err)
	}
	keys, _ = r.Keys(ctx)
	for _, k := range keys {
		if strings.HasSuffix(k, ":reply") {
			t.Errorf("after /stop, %s remains", k)
		}
	}
}

// TestOneMessageAtATime sends many answers of one conversation at once through two Bots
// sharing Redis (two processes): none is lost, each question is answered once.
func TestOneMessageAtATime(t *testing.T) {
	r := redistest.New(t)
	a, b := newFixture(t, nil, r), newFixture(t, nil, r)
	_, buttons := a.say(t, "c1", bot.Message{Text: "/start"})
	_, buttons = a.press(t, "c1", buttons, "en")
	_, buttons = a.press(t, "c1", buttons, "safe")
	a.press(t, "c1", buttons, "check")
	const n = 12 // twelve answers "no", which opens no follow-up question
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := a
			if i%2 == 1 {
				f = b
			}
			// "no" without a question: whatever question is waiting takes it.
			if _, err := f.bot.Handle(context.Background(), bot.Message{Channel: "web", ChatID: "c1", ID: fmt.Sprint("m", i), Button: "no"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	text, _ := a.say(t, "c1", bot.Message{Text: "?"}) // not understood: the waiting question again
	// Twelve questions are answered: the thirteenth waits, whichever it is in the content.
	if want := thirteenth(t, n); !strings.HasSuffix(text, want) {
		t.Errorf("after %d concurrent answers the question asked again is %q; want the thirteenth, %q", n, text, want)
	}
}

// TestRedeliveryToTwoInstancesAnsweredOnce: the same update handed to two Bots sharing Redis
// at the same moment (a channel's redelivery reaching another instance) is stepped once: the
// other finds it handled, however the two reads and saves interleave.
func TestRedeliveryToTwoInstancesAnsweredOnce(t *testing.T) {
	r := redistest.New(t)
	a, b := newFixture(t, nil, r), newFixture(t, nil, r)
	_, buttons := a.say(t, "c2", bot.Message{Text: "/start"})
	_, buttons = a.press(t, "c2", buttons, "en")
	_, buttons = a.press(t, "c2", buttons, "safe")
	a.press(t, "c2", buttons, "check")
	const n = 12
	for i := range n {
		m := bot.Message{Channel: "web", ChatID: "c2", ID: fmt.Sprint("r", i), Button: "no"}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for j, f := range []*fixture{a, b} {
			wg.Go(func() { _, errs[j] = f.bot.Handle(context.Background(), m) })
		}
		wg.Wait()
		handled := 0
		for _, err := range errs {
			switch {
			case err == nil:
				handled++
			case !errors.Is(err, bot.ErrDuplicate):
				t.Errorf("update %d: %v", i, err)
			}
		}
		if handled != 1 {
			t.Errorf("update %d was stepped %d times; want once", i, handled)
		}
	}
	text, _ := a.say(t, "c2", bot.Message{Text: "?"})
	if want := thirteenth(t, n); !strings.HasSuffix(text, want) {
		t.Errorf("after %d answers, each handed to two instances, the question asked is %q; want %q", n, text, want)
	}
}

func TestRedisDownGetsTheNumbersAndRecovers(t *testing.T) {
	r := redistest.New(t)
	proxy, url := r.Proxy(t)
	opt, _ := redis.ParseURL(url)
	opt.MaxRetries = -1
	opt.DialTimeout, opt.ReadTimeout = 200*time.Millisecond, 200*time.Millisecond
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	f := newFixture(t, rdb, r)
	_, buttons := f.say(t, "c2", bot.Message{Text: "/start", Language: "fr"})
	_, buttons = f.press(t, "c2", buttons, "fr")

	proxy.Cut()
	text, _ := f.say(t, "c2", bot.Message{Text: "bonjour", Language: "fr"})
	for _, want := range []string{"112", "1109", "197", "Désolé"} {
		if !strings.Contains(text, want) {
			t.Errorf("reply while Redis is down %q lacks %q", text, want)
		}
	}
	// Someone is watching: the duress word gets its innocent line, never the numbers.
	if text, _ := f.say(t, "c2", bot.Message{Text: "tournesol", Language: "fr"}); strings.Contains(text, "112") || text == "" {
		t.Errorf("the duress word while Redis is down got %q; want the innocent line", text)
	}
	proxy.Restore()
	text, _ = f.press(t, "c2", buttons, "safe")
	if !strings.Contains(text, "Que voulez-vous faire") {
		t.Errorf("after Redis came back: %q; want the conversation to go on (the menu)", text)
	}
}

func TestSessionMaxAge(t *testing.T) {
	f := newFixture(t, nil, redistest.New(t))
	_, buttons := f.say(t, "c3", bot.Message{Text: "/start"})
	_, buttons = f.press(t, "c3", buttons, "en")
	f.now = f.now.Add(25 * time.Hour)
	text, _ := f.press(t, "c3", buttons, "safe")
	if !strings.Contains(text, "Choose your language") {
		t.Errorf("a session older than the maximum age went on: %q", text)
	}
}

func TestPseudonymsDifferByChannelAndKey(t *testing.T) {
	f := newFixture(t, nil, redistest.New(t))
	a, b := f.bot.Pseudonym("telegram", "42"), f.bot.Pseudonym("web", "42")
	if a == b || strings.Contains(a, "42") || len(a) != 20 {
		t.Errorf("pseudonyms %q and %q; want distinct, 20 characters, without the id", a, b)
	}
}

// wiper records what a channel was asked to delete.
type wiper struct {
	chat string
	ids  []string
}

func (w *wiper) Wipe(_ context.Context, chat string, ids []string) error {
	w.chat, w.ids = chat, ids
	return nil
}

// TestWipe: /wipe deletes every key of the conversation and asks the channel to delete the
// person's and the bot's messages; the last word is not remembered.
func TestWipe(t *testing.T) {
	r := redistest.New(t)
	w := &wiper{}
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
		Wipers: map[string]bot.Wiper{"telegram": w}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	send := func(id, msgID, text string) []bot.Reply {
		replies, err := b.Handle(ctx, bot.Message{Channel: "telegram", ChatID: "555", ID: id, MsgID: msgID, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return replies
	}
	send("1", "10", "/start")
	if stale, err := b.Remember(ctx, "telegram", "555", []string{"11"}, time.Now()); err != nil || stale {
		t.Fatal(stale, err)
	}
	send("2", "12", "/help")
	b.Remember(ctx, "telegram", "555", []string{"13"}, time.Now())
	onItsWay := time.Now() // a reply to /help still on its way when the person wipes
	replies := send("3", "14", "/wipe")
	if len(replies) != 1 || !replies[0].Forget || !strings.Contains(replies[0].Text, "OK, bye.") {
		t.Errorf("the reply to /wipe %+v; want the last word, not to be remembered", replies)
	}
	// Only the wipe's time is left, for two minutes: no id, no session, nothing of the person.
	if err := r.WipedOnly(ctx); err != nil {
		t.Errorf("after /wipe: %v", err)
	}
	if w.chat != "555" || strings.Join(w.ids, ",") != "10,11,12,13,14" {
		t.Errorf("the channel was asked to delete %q in %q; want 10-14 in 555", w.ids, w.chat)
	}
	// The reply that was on its way reports its id after the wipe: it is to be deleted now.
	if stale, err := b.Remember(ctx, "telegram", "555", []string{"15"}, onItsWay); err != nil || !stale {
		t.Errorf("an id of a message queued before the wipe: stale %v, %v; want it deleted", stale, err)
	}
	// A conversation begun after the wipe keeps its messages, and they are remembered.
	time.Sleep(2 * time.Millisecond)
	send("4", "16", "/start")
	if stale, err := b.Remember(ctx, "telegram", "555", []string{"17"}, time.Now()); err != nil || stale {
		t.Errorf("an id of the new conversation: stale %v, %v; want it kept", stale, err)
	}
	// Each Remember of a conversation sets the ids' TTL only once in a while: they have one.
	b.Remember(ctx, "telegram", "555", []string{"18", "19"}, time.Now())
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if ttl := r.Client.TTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
		if strings.HasSuffix(k, ":msgs") {
			if ids := r.Client.ZRange(ctx, k, 0, -1).Val(); strings.Join(ids, ",") != "16,17,18,19" {
				t.Errorf("the new conversation's ids %q; want 16-19", ids)
			}
		}
	}
	// Someone who never wiped, and has no session (the flood path answers them without one):
	// their replies are not deleted, and no key is made.
	if stale, err := b.Remember(ctx, "telegram", "556", []string{"3"}, time.Now().Add(-time.Minute)); err != nil || stale {
		t.Errorf("an id of a chat without a session or a wipe: stale %v, %v; want it left alone", stale, err)
	}
}

// deleter is a channel that deletes single messages too, as Telegram does.
type deleter struct {
	wiper
	deleted []string
}

func (d *deleter) Delete(_ context.Context, chat string, ids []string) error {
	d.deleted = append(d.deleted, chat+":"+strings.Join(ids, ","))
	return nil
}

// TestCodeWordLeavesTheChat: on Telegram, the person's message with their code word is
// deleted from the chat at once, and they are told.
func TestCodeWordLeavesTheChat(t *testing.T) {
	r := redistest.New(t)
	w := &deleter{}
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
		Wipers: map[string]bot.Wiper{"telegram": w}, Desk: &desk{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var last []bot.Reply
	for i, step := range []string{"/start", "en", "safe", "person", "yes", "ekka", "purple otter"} {
		m := bot.Message{Channel: "telegram", ChatID: "557", ID: fmt.Sprint(i), MsgID: fmt.Sprint(30 + i), Text: step}
		if len(last) > 0 {
			for _, btn := range last[len(last)-1].Buttons {
				if strings.HasSuffix(btn.Data, "/"+step) {
					m.Text, m.Button = "", btn.Data
				}
			}
		}
		if last, err = b.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(w.deleted, " ") != "557:36" {
		t.Errorf("deleted %q; want the code word's message, 36, only", w.deleted)
	}
	if len(last) == 0 || !strings.Contains(last[0].Text, "code word") {
		t.Errorf("the person was not told their code word was deleted: %+v", last)
	}
}

// TestCodeWordNeverStored: the typed code word travels with the handoff only.
func TestCodeWordNeverStored(t *testing.T) {
	r := redistest.New(t)
	f := newFixture(t, nil, r)
	var err error
	f.bot, err = bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("test key"), Prefix: r.Prefix,
		Logger: slog.New(slog.NewJSONHandler(f.log, nil)), Desk: &desk{}}) // with counsellors: the code word is asked
	if err != nil {
		t.Fatal(err)
	}
	_, buttons := f.say(t, "c5", bot.Message{Text: "/start"})
	for _, id := range []string{"en", "safe", "person", "yes", "ekka"} {
		_, buttons = f.press(t, "c5", buttons, id)
	}
	f.say(t, "c5", bot.Message{Text: "purple otter"})
	keys, _ := r.Keys(context.Background())
	for _, k := range keys {
		if v := r.Client.Get(context.Background(), k).Val(); strings.Contains(v, "purple") {
			t.Errorf("%s holds the code word: %s", k, v)
		}
	}
	if strings.Contains(f.log.String(), "purple") {
		t.Error("the log holds the code word")
	}
}

// TestStopWipes: a conversation that ends (/stop, leave now) is wiped as by /wipe: its keys and
// the chat's messages.
func TestStopWipes(t *testing.T) {
	r := redistest.New(t)
	w := &wiper{}
	b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
		Wipers: map[string]bot.Wiper{"telegram": w}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, text := range []string{"/start", "/stop"} {
		if _, err := b.Handle(ctx, bot.Message{Channel: "telegram", ChatID: "556", ID: fmt.Sprint(i), MsgID: fmt.Sprint(20 + i), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.WipedOnly(ctx); err != nil || strings.Join(w.ids, ",") != "20,21" {
		t.Errorf("after /stop: %v, deleted %v; want only the wipe's time left, 20 and 21 deleted", err, w.ids)
	}
}

// TestQuickExit: the leave-now button ends the conversation; only the wipe's time remains.
func TestQuickExit(t *testing.T) {
	r := redistest.New(t)
	f := newFixture(t, nil, r)
	_, buttons := f.say(t, "c6", bot.Message{Text: "/start", ID: "1"})
	_, buttons = f.press(t, "c6", buttons, "en")
	if text, _ := f.press(t, "c6", buttons, "stop"); !strings.Contains(text, "Goodbye") {
		t.Errorf("leave now: %q", text)
	}
	if err := r.WipedOnly(context.Background()); err != nil {
		t.Errorf("after leaving: %v", err)
	}
}

// thirteenth is the text of the screening question, in English, that waits after n answers
// "no", as the engine asks it one answer after the other.
func thirteenth(t *testing.T, n int) string {
	t.Helper()
	c := shipped(t)
	var s dialog.State
	var outs []dialog.Output
	var err error
	for _, in := range []dialog.Input{{Command: "start"}, {Choice: "en"}, {Choice: "safe"}, {Choice: "check"}} {
		if s, outs, err = c.Engine.Step(s, in); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if s, outs, err = c.Engine.Step(s, dialog.Input{Choice: "no"}); err != nil {
			t.Fatal(err)
		}
	}
	last := outs[len(outs)-1]
	if last.Kind != dialog.Ask || !slices.Contains(c.Engine.Screening(), s.Node) || s.Answers[s.Node] != "" {
		t.Fatalf("after %d answers %q: %s.%s waits; want a screening question not yet answered", n, "no", s.Flow, s.Node)
	}
	text, _ := c.Catalog.Show(last)
	return text
}
