package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/testkit"
)

// fakeConversations knows the conversations in live; "/wipe" is vital.
type fakeConversations struct {
	err error // Live's answer, if set

	mu   sync.Mutex
	live map[string]bool
}

func (f *fakeConversations) Live(_ context.Context, channel, chatID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	return channel == "web" && f.live[chatID], nil
}

func (f *fakeConversations) Vital(m bot.Message) bool { return m.Text == "/wipe" }

// start makes conversation id live, as its first message does.
func (f *fakeConversations) start(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live == nil {
		f.live = map[string]bool{}
	}
	f.live[id] = true
}

// limitedChat is a chat with Conversations and a registry, and its answers' details.
func limitedChat(t *testing.T, cfg webhook.ChatConfig) (*webhook.Chat, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer, cfg.KeepAlive = reg, time.Hour
	if cfg.Handler == nil {
		cfg.Handler = &fakeHandler{}
	}
	chat, err := webhook.NewChat(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chat.Close() })
	return chat, reg
}

// convID returns the n-th conversation id of a test.
func convID(n int) string { return fmt.Sprintf("%032x", n) }

// TestChatEventsOnlyForLiveConversations: a stream opens only for a conversation that exists;
// made-up ids are refused before anything is held, and a Redis outage asks the page to come
// back later.
func TestChatEventsOnlyForLiveConversations(t *testing.T) {
	tests := []struct {
		name      string
		liveErr   error
		live      bool
		status    int
		wantError string
		retry     string
	}{
		{"live", nil, true, http.StatusOK, "", ""},
		{"not live", nil, false, http.StatusNotFound, "no such conversation", ""},
		{"Redis down", errors.New("redis: connection refused"), true, http.StatusServiceUnavailable, "unavailable; try again later", "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := &fakeConversations{err: tt.liveErr}
			if tt.live {
				conv.start(conversation)
			}
			chat, reg := limitedChat(t, webhook.ChatConfig{Conversations: conv})
			srv := startServer(t, chat)
			resp := dial(t, t.Context(), srv.URL, conversation)
			if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != tt.retry {
				t.Fatalf("status %d, Retry-After %q; want %d, %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.status, tt.retry)
			}
			if tt.status == http.StatusOK {
				return
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffJSON(t, string(body), errorBody(tt.wantError)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if got := testkit.Metric(t, reg, "faros_webchat_streams"); got != 0 {
				t.Errorf("faros_webchat_streams = %v; want 0: nothing registered", got)
			}
			if err := chat.Send(t.Context(), conversation, sampleReplies); !errors.Is(err, webhook.ErrNotConnected) {
				t.Errorf("Send = %v; want ErrNotConnected", err)
			}
		})
	}
	// Thousands of made-up ids hold nothing.
	chat, reg := limitedChat(t, webhook.ChatConfig{Conversations: &fakeConversations{}})
	for n := range 2_000 {
		if w := postChat(chat, "/chat/events", `{"conversation": "`+convID(n)+`"}`); w.Code != http.StatusNotFound {
			t.Fatalf("made-up id %d: status %d; want 404", n, w.Code)
		}
	}
	if got := testkit.Metric(t, reg, "faros_webchat_refused_total", "reason", "not_live"); got != 2_000 {
		t.Errorf("faros_webchat_refused_total{reason=not_live} = %v; want 2000", got)
	}
}

// TestChatNewConversationsPerSource: an address may start a few conversations at once and
// then one in a while; messages of conversations that exist cost nothing, vital ones always
// pass, and other addresses are not affected.
func TestChatNewConversationsPerSource(t *testing.T) {
	conv := &fakeConversations{}
	conv.start(conversation)
	h := &fakeHandler{}
	chat, reg := limitedChat(t, webhook.ChatConfig{Handler: h, Conversations: conv, NewPerSource: 3, NewPerSourceEvery: time.Hour,
		ClientAddrHeader: "X-Forwarded-For"})
	from := func(addr string) []string { return []string{"X-Forwarded-For", "198.51.100.1, " + addr} }
	tests := []struct {
		name   string
		body   string
		header []string
		status int
	}{
		{"first new conversation", say(convID(1), "/start"), from("192.0.2.1"), 200},
		{"second", say(convID(2), "/start"), from("192.0.2.1"), 200},
		{"third", say(convID(3), "/start"), from("192.0.2.1"), 200},
		{"fourth: refused", say(convID(4), "/start"), from("192.0.2.1"), 429},
		{"a made-up id: refused", say(convID(5), "hello"), from("192.0.2.1"), 429},
		{"a live conversation: free", say(conversation, "hello"), from("192.0.2.1"), 200},
		{"vital, in a conversation that is not live", say(convID(4), "/wipe"), from("192.0.2.1"), 200},
		{"another address", say(convID(6), "/start"), from("192.0.2.2"), 200},
		{"the same /64", say(convID(7), "/start"), from("2001:db8::1"), 200},
		{"the same /64, again", say(convID(8), "/start"), from("2001:db8::2"), 200},
		{"the same /64, a third", say(convID(9), "/start"), from("2001:db8::3"), 200},
		{"the same /64, a fourth: refused", say(convID(10), "/start"), from("2001:db8::4"), 429},
	}
	for _, tt := range tests {
		w := postChat(chat, "/chat/messages", tt.body, tt.header...)
		if w.Code != tt.status {
			t.Errorf("%s: status %d; want %d (%s)", tt.name, w.Code, tt.status, w.Body)
		}
		if tt.status == http.StatusTooManyRequests {
			if got := w.Header().Get("Retry-After"); got != "3600" {
				t.Errorf("%s: Retry-After %q; want 3600", tt.name, got)
			}
			if d := diffJSON(t, w.Body.String(), errorBody("too many new conversations from this address; try again later")); d != "" {
				t.Errorf("%s: body (-want +got):\n%s", tt.name, d)
			}
		}
	}
	if got := len(h.messages()); got != 9 {
		t.Errorf("handler got %d messages; want the 9 admitted", got)
	}
	if got := testkit.Metric(t, reg, "faros_webchat_refused_total", "reason", "source"); got != 3 {
		t.Errorf("faros_webchat_refused_total{reason=source} = %v; want 3", got)
	}
}

// TestChatStreamsPerSource: one address holds at most StreamsPerSource streams; a stream that
// ends frees its place, and other addresses are not affected.
func TestChatStreamsPerSource(t *testing.T) {
	conv := &fakeConversations{}
	for n := range 4 {
		conv.start(convID(n))
	}
	chat, reg := limitedChat(t, webhook.ChatConfig{Conversations: conv, StreamsPerSource: 2, ClientAddrHeader: "X-Real-IP"})
	srv := startServer(t, chat)
	from := func(addr string) []string { return []string{"X-Real-IP", addr} }

	ctx, leave := context.WithCancel(t.Context())
	openStreamOf(t, ctx, srv.URL, convID(0), from("192.0.2.1")...)
	openStreamOf(t, t.Context(), srv.URL, convID(1), from("192.0.2.1")...)
	resp := dial(t, t.Context(), srv.URL, convID(2), from("192.0.2.1")...)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "10" {
		t.Errorf("a third stream of an address: status %d, Retry-After %q; want 429, 10", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	openStreamOf(t, t.Context(), srv.URL, convID(3), from("192.0.2.2")...)
	if got := testkit.Metric(t, reg, "faros_webchat_refused_total", "reason", "source_streams"); got != 1 {
		t.Errorf("faros_webchat_refused_total{reason=source_streams} = %v; want 1", got)
	}

	leave()
	eventually(t, "a place freed", func() bool {
		resp := dial(t, t.Context(), srv.URL, convID(2), from("192.0.2.1")...)
		return resp.StatusCode == http.StatusOK
	})
}
