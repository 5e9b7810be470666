package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// sessions knows a conversation live when its session key exists, as the bot does.
type sessions struct {
	r     *redistest.Redis
	inbox *bot.Inbox
}

func (s sessions) key(chatID string) string {
	return s.r.Prefix + ":{p:" + s.inbox.Tag(chatID) + "}:session"
}

func (s sessions) Live(ctx context.Context, channel, chatID string) (bool, error) {
	n, err := s.r.Client.Exists(ctx, s.key(chatID)).Result()
	return n == 1, err
}

func (s sessions) Vital(m bot.Message) bool { return m.Text == "/wipe" }

// start makes conversation chatID live, as its first message does.
func (s sessions) start(t *testing.T, chatID string) {
	t.Helper()
	if err := s.r.Client.Set(context.Background(), s.key(chatID), "{}", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
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
	inbox := bot.NewInbox(r.Client, r.Prefix, "web", pseudonymKey)
	s := sessions{r: r, inbox: inbox}
	reg := prometheus.NewRegistry()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Conversations: s, Inbox: inbox, KeepAlive: time.Hour, Registerer: reg})
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
	done := make(chan string, 1)
	go func() {
		line, _ := events.ReadString('\n')
		for !strings.HasPrefix(line, "data: ") && line != "" {
			line, _ = events.ReadString('\n')
		}
		done <- line
	}()
	var line string
	select {
	case line = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5 s")
	}
	var data struct{ Replies []struct{ Text string } }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &data); err != nil {
		t.Fatalf("event data %q: %v", line, err)
	}
	var got []string
	for _, r := range data.Replies {
		got = append(got, r.Text)
	}
	return got
}

func reply(texts ...string) []bot.Reply {
	var replies []bot.Reply
	for _, t := range texts {
		replies = append(replies, bot.Reply{Text: t})
	}
	return replies
}

// TestChatSendWhileDisconnected: what an operator writes while the page is not connected
// waits, and arrives, in order, when the page connects again.
func TestChatSendWhileDisconnected(t *testing.T) {
	r := redistest.New(t)
	chat, s := newInstance(t, r)
	s.start(t, conversation)

	ctx, disconnect := context.WithCancel(t.Context())
	_, events := openStreamOf(t, ctx, chat.url, conversation)
	readEvent(t, events) // open
	if err := chat.Send(t.Context(), conversation, reply("one")); err != nil {
		t.Fatalf("Send while connected = %v; want nil", err)
	}
	if d := cmp.Diff([]string{"one"}, texts(t, events)); d != "" {
		t.Errorf("while connected (-want +got):\n%s", d)
	}

	disconnect()
	eventually(t, "the stream to end", func() bool { return testkit.Metric(t, chat.reg, "faros_webchat_streams") == 0 })
	for _, text := range []string{"two", "three"} {
		if err := chat.Send(t.Context(), conversation, reply(text, text+" more")); err != nil {
			t.Fatalf("Send while disconnected = %v; want nil: the replies wait", err)
		}
	}
	_, events = openStreamOf(t, t.Context(), chat.url, conversation)
	readEvent(t, events) // open
	if d := cmp.Diff([]string{"two", "two more", "three", "three more"}, texts(t, events)); d != "" {
		t.Errorf("after reconnecting (-want +got):\n%s", d)
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
	_, events := openStreamOf(t, ctx, b.url, conversation)
	readEvent(t, events) // open
	for i := range 5 {
		if err := a.Send(t.Context(), conversation, reply(fmt.Sprint("to b ", i))); err != nil {
			t.Fatalf("Send on a, the stream on b = %v; want nil", err)
		}
	}
	var got []string
	for len(got) < 5 {
		got = append(got, texts(t, events)...)
	}
	if d := cmp.Diff([]string{"to b 0", "to b 1", "to b 2", "to b 3", "to b 4"}, got); d != "" {
		t.Errorf("on b's stream (-want +got):\n%s", d)
	}

	disconnect()
	eventually(t, "b's stream to end", func() bool { return testkit.Metric(t, b.reg, "faros_webchat_streams") == 0 })
	if err := b.Send(t.Context(), conversation, reply("while away")); err != nil {
		t.Fatalf("Send on b, no stream anywhere = %v; want nil", err)
	}
	_, events = openStreamOf(t, t.Context(), a.url, conversation)
	readEvent(t, events) // open
	if d := cmp.Diff([]string{"while away"}, texts(t, events)); d != "" {
		t.Errorf("on a's new stream (-want +got):\n%s", d)
	}
}

// TestChatSendToGoneConversation: the operator is told when the replies truly cannot be
// delivered: the conversation was wiped, ended or expired, or never was.
func TestChatSendToGoneConversation(t *testing.T) {
	r := redistest.New(t)
	chat, s := newInstance(t, r)
	s.start(t, conversation)
	if err := chat.Send(t.Context(), conversation, reply("hello")); err != nil {
		t.Fatalf("Send to a live conversation = %v; want nil", err)
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
