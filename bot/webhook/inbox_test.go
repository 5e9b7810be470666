package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
)

// pseudonymKey is the service's secret in these tests.
var pseudonymKey = []byte("pseudonym key")

// sessions knows a conversation live when its conversation holds a session, as the bot does.
type sessions struct {
	r     *redistest.Redis
	inbox *bot.Inbox
}

func (s sessions) key(chatID string) string {
	return s.r.Prefix + ":{p:" + s.inbox.Tag(chatID) + "}:conv"
}

func (s sessions) Live(ctx context.Context, channel, chatID string) (bool, bool, error) {
	live, err := s.r.Client.HExists(ctx, s.key(chatID), "s").Result()
	return live, false, err
}

func (s sessions) Vital(m bot.Message) bool { return m.Text == "/wipe" }

func (s sessions) Fresh(bot.Message) []bot.Reply { return numbers }

// start makes conversation chatID live, as its first message does.
func (s sessions) start(t *testing.T, chatID string) {
	t.Helper()
	if err := s.live(context.Background(), chatID); err != nil {
		t.Fatal(err)
	}
}

// live makes conversation chatID live for an hour.
func (s sessions) live(ctx context.Context, chatID string) error {
	if err := s.r.Client.HSet(ctx, s.key(chatID), "s", "{}").Err(); err != nil {
		return err
	}
	return s.r.Client.Expire(ctx, s.key(chatID), time.Hour).Err()
}

// instance is one Faros instance's web chat, sharing Redis with the others of a test, and
// running until the test ends.
type instance struct {
	*webhook.Chat
	url string
	reg *prometheus.Registry
}

func newInstance(t *testing.T, r *redistest.Redis) (instance, sessions) {
	t.Helper()
	return newInstanceKeepAlive(t, r, time.Hour)
}

// newInstanceKeepAlive is newInstance whose streams say keep-alive every keepAlive.
func newInstanceKeepAlive(t *testing.T, r *redistest.Redis, keepAlive time.Duration) (instance, sessions) {
	t.Helper()
	inbox := bot.NewInbox(r.Client, r.Prefix, "web", pseudonymKey)
	s := sessions{r: r, inbox: inbox}
	reg := prometheus.NewRegistry()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Conversations: s, Inbox: inbox, KeepAlive: keepAlive, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- chat.Run(ctx) }()
	srv := startServer(t, chat)
	t.Cleanup(func() {
		chat.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	})
	return instance{Chat: chat, url: srv.URL, reg: reg}, s
}

// texts reads the next event of a stream and returns the texts of its replies.
func texts(t *testing.T, events *bufio.Reader) []string {
	t.Helper()
	_, got := batch(t, events)
	return got
}

// batch reads the next event of replies of a stream, and returns its id and the texts of its
// replies.
func batch(t *testing.T, events *bufio.Reader) (id string, texts []string) {
	t.Helper()
	done := make(chan [2]string, 1)
	go func() {
		var id string
		line, _ := events.ReadString('\n')
		for !strings.HasPrefix(line, "data: ") && line != "" {
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = strings.TrimSuffix(v, "\n")
			}
			line, _ = events.ReadString('\n')
		}
		done <- [2]string{id, line}
	}()
	var got [2]string
	select {
	case got = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5 s")
	}
	var data struct{ Replies []struct{ Text string } }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got[1], "data: ")), &data); err != nil {
		t.Fatalf("event data %q: %v", got[1], err)
	}
	for _, r := range data.Replies {
		texts = append(texts, r.Text)
	}
	return got[0], texts
}

func reply(texts ...string) []bot.Reply {
	var replies []bot.Reply
	for _, t := range texts {
		replies = append(replies, bot.Reply{Text: t})
	}
	return replies
}

// openAfter opens conversation's event stream at url as a page that showed batch after ("":
// none) does, and returns its events after the opening comment.
func openAfter(t *testing.T, ctx context.Context, url, after string) *bufio.Reader {
	t.Helper()
	resp := dialBody(t, ctx, url, `{"conversation": "`+conversation+`", "after": "`+after+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream after %q: status %d; want 200", after, resp.StatusCode)
	}
	events := bufio.NewReader(resp.Body)
	readEvent(t, events) // open
	return events
}

// TestChatSendWhileDisconnected: what an operator writes while the page is not connected
// waits, and arrives, in order, when the page connects again; the operator learns that the
// page is not open.
func TestChatSendWhileDisconnected(t *testing.T) {
	r := redistest.New(t)
	chat, s := newInstance(t, r)
	s.start(t, conversation)

	ctx, disconnect := context.WithCancel(t.Context())
	events := openAfter(t, ctx, chat.url, "")
	if err := chat.Send(t.Context(), conversation, reply("one")); err != nil {
		t.Fatalf("Send while connected = %v; want nil", err)
	}
	shown, got := batch(t, events)
	if d := cmp.Diff([]string{"one"}, got); d != "" {
		t.Errorf("while connected (-want +got):\n%s", d)
	}

	disconnect()
	eventually(t, "the stream to end", func() bool { return testkit.Metric(t, chat.reg, "faros_webchat_streams") == 0 })
	for _, text := range []string{"two", "three"} {
		if err := chat.Send(t.Context(), conversation, reply(text, text+" more")); !errors.Is(err, bot.ErrAway) {
			t.Fatalf("Send while disconnected = %v; want bot.ErrAway: the replies wait", err)
		}
	}
	events = openAfter(t, t.Context(), chat.url, shown)
	for _, want := range [][]string{{"two", "two more"}, {"three", "three more"}} {
		if d := cmp.Diff(want, texts(t, events)); d != "" {
			t.Errorf("after reconnecting (-want +got):\n%s", d)
		}
	}
	if err := chat.Send(t.Context(), conversation, reply("four")); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"four"}, texts(t, events)); d != "" {
		t.Errorf("connected again (-want +got):\n%s", d)
	}
	for result, want := range map[string]float64{"delivered": 2, "stored": 2, "failed": 0} {
		if got := testkit.Metric(t, chat.reg, "faros_webchat_pushes_total", "result", result); got != want {
			t.Errorf("faros_webchat_pushes_total{result=%s} = %v; want %v", result, got, want)
		}
	}
}

// TestChatSendAcrossInstances: an operator's words reach the page whichever instance holds
// its event stream, at once when it is open, and when it opens on another instance.
func TestChatSendAcrossInstances(t *testing.T) {
	r := redistest.New(t)
	a, s := newInstance(t, r)
	b, _ := newInstance(t, r)
	s.start(t, conversation)

	ctx, disconnect := context.WithCancel(t.Context())
	events := openAfter(t, ctx, b.url, "")
	for i := range 5 {
		if err := a.Send(t.Context(), conversation, reply(fmt.Sprint("to b ", i))); err != nil {
			t.Fatalf("Send on a, the stream on b = %v; want nil", err)
		}
	}
	var got []string
	var shown string
	for len(got) < 5 {
		id, texts := batch(t, events)
		got, shown = append(got, texts...), id
	}
	if d := cmp.Diff([]string{"to b 0", "to b 1", "to b 2", "to b 3", "to b 4"}, got); d != "" {
		t.Errorf("on b's stream (-want +got):\n%s", d)
	}

	disconnect()
	eventually(t, "b's stream to end", func() bool { return testkit.Metric(t, b.reg, "faros_webchat_streams") == 0 })
	if err := b.Send(t.Context(), conversation, reply("while away")); !errors.Is(err, bot.ErrAway) {
		t.Fatalf("Send on b, no stream anywhere = %v; want bot.ErrAway", err)
	}
	events = openAfter(t, t.Context(), a.url, shown)
	if d := cmp.Diff([]string{"while away"}, texts(t, events)); d != "" {
		t.Errorf("on a's new stream (-want +got):\n%s", d)
	}
}

// TestChatRedeliversUnacknowledged: a batch written into a stream that died before the page
// showed it (a phone that changed networks) comes again, once, on the page's next stream, on
// either instance, in order; what the page acknowledges, on a stream or with a message, does
// not come again and leaves the inbox.
func TestChatRedeliversUnacknowledged(t *testing.T) {
	r := redistest.New(t)
	a, s := newInstance(t, r)
	b, _ := newInstance(t, r)
	s.start(t, conversation)

	ctx, kill := context.WithCancel(t.Context())
	events := openAfter(t, ctx, a.url, "")
	b.Send(t.Context(), conversation, reply("one"))
	one, got := batch(t, events)
	if d := cmp.Diff([]string{"one"}, got); d != "" || one == "" {
		t.Fatalf("first stream: id %q (-want +got):\n%s; want an id", one, d)
	}
	kill() // the server wrote it; the page never showed it
	eventually(t, "a's stream to end", func() bool { return testkit.Metric(t, a.reg, "faros_webchat_streams") == 0 })
	a.Send(t.Context(), conversation, reply("two"))

	// The page showed nothing: it asks for everything.
	events = openAfter(t, t.Context(), b.url, "")
	again, got := batch(t, events)
	if d := cmp.Diff([]string{"one"}, got); d != "" || again != one {
		t.Errorf("next stream, first event: id %q (-want +got):\n%s; want id %q again", again, d, one)
	}
	two, got := batch(t, events)
	if d := cmp.Diff([]string{"two"}, got); d != "" {
		t.Errorf("next stream, second event (-want +got):\n%s", d)
	}
	a.Send(t.Context(), conversation, reply("three"))
	three, got := batch(t, events)
	if d := cmp.Diff([]string{"three"}, got); d != "" {
		t.Errorf("next stream, third event (-want +got):\n%s; want each batch once", d)
	}

	// The page showed up to two; a stream on the other instance sends only what follows.
	events = openAfter(t, t.Context(), a.url, two)
	if d := cmp.Diff([]string{"three"}, texts(t, events)); d != "" {
		t.Errorf("a stream after %q (-want +got):\n%s", two, d)
	}
	if n := r.Client.LLen(t.Context(), r.Prefix+":{p:"+s.inbox.Tag(conversation)+"}:inbox").Val(); n != 1 {
		t.Errorf("the inbox holds %d batches after two were acknowledged; want 1", n)
	}
	// A message acknowledges too.
	w := postChat(a, "/chat/messages", `{"conversation": "`+conversation+`", "text": "hi", "after": "`+three+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("a message with after: status %d; want 200", w.Code)
	}
	if keys, _ := r.Keys(t.Context()); slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, ":inbox") }) {
		t.Errorf("keys %q: want no inbox, everything acknowledged", keys)
	}
}

// TestChatPresence: Send says whether a page of the conversation is open, on any instance:
// nil if one is, bot.ErrAway when none is (the words wait), ErrNotConnected when the
// conversation is gone. The mark lasts two keep-alives, each renewing it, holds no id, and
// goes with the page's last stream, or with the conversation.
func TestChatPresence(t *testing.T) {
	r := redistest.New(t)
	const keepAlive = 100 * time.Millisecond
	a, s := newInstanceKeepAlive(t, r, keepAlive)
	b, _ := newInstanceKeepAlive(t, r, keepAlive)
	s.start(t, conversation)
	online := r.Prefix + ":{p:" + s.inbox.Tag(conversation) + "}:online"
	send := func(when string, want error) {
		t.Helper()
		if err := a.Send(t.Context(), conversation, reply("are you there?")); !errors.Is(err, want) {
			t.Errorf("%s: Send = %v; want %v", when, err, want)
		}
	}

	send("no page", bot.ErrAway)
	ctx, leave := context.WithCancel(t.Context())
	openAfter(t, ctx, b.url, "")
	send("a page open on the other instance", nil)
	if ttl := r.Client.PTTL(t.Context(), online).Val(); ttl <= 0 || ttl > 2*keepAlive {
		t.Errorf("TTL of %s = %v; want at most two keep-alives (%v)", online, ttl, 2*keepAlive)
	}
	if v := r.Client.Get(t.Context(), online).Val(); len(v) < 16 {
		t.Errorf("%s holds %q; want the instance's random mark", online, v)
	}
	time.Sleep(5 * keepAlive)
	send("five keep-alives later", nil)

	leave()
	eventually(t, "the stream to end", func() bool { return testkit.Metric(t, b.reg, "faros_webchat_streams") == 0 })
	send("the page closed", bot.ErrAway)

	openAfter(t, t.Context(), a.url, "")
	send("a page open on this instance", nil)
	r.Client.Del(t.Context(), s.key(conversation)) // wiped, or expired
	send("the conversation gone", webhook.ErrNotConnected)
	eventually(t, "the stream of the wiped conversation to end", func() bool { return testkit.Metric(t, a.reg, "faros_webchat_streams") == 0 })
	if n := r.Client.Exists(t.Context(), online).Val(); n != 0 {
		t.Errorf("%s is there after the conversation ended", online)
	}
}

// TestChatSendToGoneConversation: the operator is told when the replies truly cannot be
// delivered: the conversation was wiped, ended or expired, or never was.
func TestChatSendToGoneConversation(t *testing.T) {
	r := redistest.New(t)
	chat, s := newInstance(t, r)
	s.start(t, conversation)
	if err := chat.Send(t.Context(), conversation, reply("hello")); !errors.Is(err, bot.ErrAway) {
		t.Fatalf("Send to a live conversation, no page open = %v; want bot.ErrAway", err)
	}
	r.Client.Del(t.Context(), s.key(conversation)) // wiped, or expired
	if err := chat.Send(t.Context(), conversation, reply("are you there?")); !errors.Is(err, webhook.ErrNotConnected) {
		t.Errorf("Send to a wiped conversation = %v; want ErrNotConnected", err)
	}
	if err := chat.Send(t.Context(), strings.Repeat("e", 32), reply("hello")); !errors.Is(err, webhook.ErrNotConnected) {
		t.Errorf("Send to a conversation that never was = %v; want ErrNotConnected", err)
	}
	if got := testkit.Metric(t, chat.reg, "faros_webchat_pushes_total", "result", "failed"); got != 2 {
		t.Errorf("faros_webchat_pushes_total{result=failed} = %v; want 2", got)
	}
}
