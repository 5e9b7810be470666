package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/testkit"
)

// fakeConversations knows the conversations in live; "/wipe", "help" and "sos" are vital.
type fakeConversations struct {
	err error // Live's answer, if set

	mu     sync.Mutex
	live   map[string]bool
	inCase map[string]bool
}

func (f *fakeConversations) Live(_ context.Context, channel, chatID string) (bool, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, false, f.err
	}
	return channel == "web" && f.live[chatID], channel == "web" && f.inCase[chatID], nil
}

func (f *fakeConversations) Vital(m bot.Message) bool {
	return m.Text == "/wipe" || m.Text == "help" || m.Text == "sos"
}

func (f *fakeConversations) Fresh(bot.Message) []bot.Reply { return numbers }

// numbers is what Conversations.Fresh answers in these tests.
var numbers = []bot.Reply{{Text: "In danger, call 112. Help: 1109, 197.", Urgent: true}}

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
// then one in a while; messages of conversations that exist do not count here, a vital one
// beyond the budget gets the numbers without reaching the bot, and other addresses are not
// affected.
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
		want   string // the body; "" for the handler's answer
	}{
		{"first new conversation", say(convID(1), "/start"), from("192.0.2.1"), 200, ""},
		{"second", say(convID(2), "/start"), from("192.0.2.1"), 200, ""},
		{"third", say(convID(3), "/start"), from("192.0.2.1"), 200, ""},
		{"fourth: refused", say(convID(4), "/start"), from("192.0.2.1"), 429, errorBody("too many new conversations from this address; try again later")},
		{"a made-up id: refused", say(convID(5), "hello"), from("192.0.2.1"), 429, errorBody("too many new conversations from this address; try again later")},
		{"a live conversation: not a new one", say(conversation, "hello"), from("192.0.2.1"), 200, ""},
		{"vital, in a conversation that is not live: the numbers", say(convID(4), "/wipe"), from("192.0.2.1"), 200, numbersJSON},
		{"another address", say(convID(6), "/start"), from("192.0.2.2"), 200, ""},
		{"the same /64", say(convID(7), "/start"), from("2001:db8::1"), 200, ""},
		{"the same /64, again", say(convID(8), "/start"), from("2001:db8::2"), 200, ""},
		{"the same /64, a third", say(convID(9), "/start"), from("2001:db8::3"), 200, ""},
		{"the same /64, a fourth: refused", say(convID(10), "/start"), from("2001:db8::4"), 429, errorBody("too many new conversations from this address; try again later")},
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
		}
		if tt.want != "" {
			if d := diffJSON(t, w.Body.String(), tt.want); d != "" {
				t.Errorf("%s: body (-want +got):\n%s", tt.name, d)
			}
		}
	}
	if got := len(h.messages()); got != 8 {
		t.Errorf("handler got %d messages; want the 8 admitted", got)
	}
	for reason, want := range map[string]float64{"source": 3, "source_vital": 1} {
		if got := testkit.Metric(t, reg, "faros_webchat_refused_total", "reason", reason); got != want {
			t.Errorf("faros_webchat_refused_total{reason=%s} = %v; want %v", reason, got, want)
		}
	}
}

// numbersJSON is the answer of a vital message that the chat answers itself.
const numbersJSON = `{"replies": [{"text": "In danger, call 112. Help: 1109, 197.", "urgent": true}]}`

// TestChatVitalFloodOfMadeUpConversations: help words and wipes in a thousand made-up
// conversations from one address reach the bot (and make sessions) only as far as the
// address's budget of new conversations allows; every one is answered, with the numbers.
// Before, a vital message passed every check: 6,400 of them made 6,400 sessions, and Redis
// filled up.
func TestChatVitalFloodOfMadeUpConversations(t *testing.T) {
	h := &fakeHandler{replies: []bot.Reply{{Text: "Call 112 if you are in danger."}}}
	chat, _ := limitedChat(t, webhook.ChatConfig{Handler: h, Conversations: &fakeConversations{}})
	words := []string{"help", "sos", "/wipe"}
	for n := range 1_000 {
		w := postChat(chat, "/chat/messages", say(convID(n), words[n%len(words)]))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "112") {
			t.Fatalf("message %d (%s): status %d, body %s; want 200 with 112", n, words[n%len(words)], w.Code, w.Body)
		}
	}
	if got := len(h.messages()); got > 20 {
		t.Errorf("the bot handled %d of them; want at most the budget, 20", got)
	}
}

// TestChatMessagesPerSource: an address may send a burst of messages in its live
// conversations and then a few a second; beyond, 429 with Retry-After. Vital messages never
// count and are never refused; other addresses, and new conversations, are not affected.
func TestChatMessagesPerSource(t *testing.T) {
	conv := &fakeConversations{}
	for n := range 4 {
		conv.start(convID(n))
	}
	conv.inCase = map[string]bool{convID(3): true}
	h := &fakeHandler{}
	chat, reg := limitedChat(t, webhook.ChatConfig{Handler: h, Conversations: conv, MessagesPerSource: 4,
		MessagesPerSourceEvery: time.Hour, ClientAddrHeader: "X-Real-IP"})
	from := func(addr string) []string { return []string{"X-Real-IP", addr} }
	tests := []struct {
		name   string
		body   string
		addr   string
		status int
	}{
		{"vital messages first", say(convID(0), "help"), "192.0.2.1", 200},
		{"they do not count", say(convID(1), "sos"), "192.0.2.1", 200},
		{"message 1 of 4", say(convID(0), "hello"), "192.0.2.1", 200},
		{"message 2, another conversation of the address", say(convID(1), "hello"), "192.0.2.1", 200},
		{"message 3", say(convID(0), "hello"), "192.0.2.1", 200},
		{"message 4", say(convID(1), "hello"), "192.0.2.1", 200},
		{"a fifth: refused", say(convID(0), "hello"), "192.0.2.1", 429},
		{"vital: never refused", say(convID(0), "/wipe"), "192.0.2.1", 200},
		{"words to a counsellor: never refused", say(convID(3), "are you there?"), "192.0.2.1", 200},
		{"a new conversation: its own budget", say(convID(9), "/start"), "192.0.2.1", 200},
		{"another address", say(convID(2), "hello"), "192.0.2.2", 200},
	}
	for _, tt := range tests {
		w := postChat(chat, "/chat/messages", tt.body, from(tt.addr)...)
		if w.Code != tt.status {
			t.Errorf("%s: status %d; want %d (%s)", tt.name, w.Code, tt.status, w.Body)
		}
		if tt.status != http.StatusTooManyRequests {
			continue
		}
		if got := w.Header().Get("Retry-After"); got != "3600" {
			t.Errorf("%s: Retry-After %q; want 3600", tt.name, got)
		}
		if d := diffJSON(t, w.Body.String(), errorBody("too many messages from this address; try again in a moment")); d != "" {
			t.Errorf("%s: body (-want +got):\n%s", tt.name, d)
		}
	}
	if got := len(h.messages()); got != 10 {
		t.Errorf("handler got %d messages; want the 10 admitted", got)
	}
	if got := testkit.Metric(t, reg, "faros_webchat_refused_total", "reason", "source_rate"); got != 1 {
		t.Errorf("faros_webchat_refused_total{reason=source_rate} = %v; want 1", got)
	}
}

// TestChatMessagesPerSourceDefault: by default an address may send twenty messages at once
// (more than a shelter's thirty people send in one second), then five a second; the one
// beyond is told to come back in a second.
func TestChatMessagesPerSourceDefault(t *testing.T) {
	conv := &fakeConversations{}
	for n := range 30 {
		conv.start(convID(n))
	}
	chat, _ := limitedChat(t, webhook.ChatConfig{Conversations: conv})
	for n := range 20 {
		if w := postChat(chat, "/chat/messages", say(convID(n), "hello")); w.Code != http.StatusOK {
			t.Fatalf("message %d of 20 at once: status %d; want 200", n+1, w.Code)
		}
	}
	w := postChat(chat, "/chat/messages", say(convID(20), "hello"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("the 21st at once: status %d, Retry-After %q; want 429, 1", w.Code, w.Header().Get("Retry-After"))
	}
	time.Sleep(time.Second)
	for n := range 5 {
		if w := postChat(chat, "/chat/messages", say(convID(21+n), "hello")); w.Code != http.StatusOK {
			t.Errorf("message %d of 5 a second later: status %d; want 200", n+1, w.Code)
		}
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

// TestChatRefusedStreamEvictsNothing: a conversation's fifth stream takes the place of its
// oldest only if the caps let it open; refused, it leaves the page the streams it has.
// Before, the oldest was closed first, and the page was left with none.
func TestChatRefusedStreamEvictsNothing(t *testing.T) {
	conv := &fakeConversations{}
	for n := range 3 {
		conv.start(convID(n))
	}
	chat, reg := limitedChat(t, webhook.ChatConfig{Conversations: conv, StreamsPerSource: 2, ClientAddrHeader: "X-Real-IP"})
	srv := startServer(t, chat)
	from := func(addr string) []string { return []string{"X-Real-IP", addr} }

	_, oldest := openStreamOf(t, t.Context(), srv.URL, convID(0), from("192.0.2.1")...)
	readEvent(t, oldest) // open
	for _, addr := range []string{"192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		openStreamOf(t, t.Context(), srv.URL, convID(0), from(addr)...)
	}
	// Another address at its cap asks for the conversation's fifth stream.
	openStreamOf(t, t.Context(), srv.URL, convID(1), from("192.0.2.9")...)
	openStreamOf(t, t.Context(), srv.URL, convID(2), from("192.0.2.9")...)
	if resp := dial(t, t.Context(), srv.URL, convID(0), from("192.0.2.9")...); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a fifth stream from an address at its cap: status %d; want 429", resp.StatusCode)
	}
	if got := testkit.Metric(t, reg, "faros_webchat_streams"); got != 6 {
		t.Errorf("faros_webchat_streams = %v; want 6: none evicted", got)
	}
	if err := chat.Send(t.Context(), convID(0), sampleReplies); err != nil {
		t.Fatalf("Send = %v", err)
	}
	if event := readEvent(t, oldest); !strings.HasPrefix(event, "event: replies\n") {
		t.Errorf("the oldest stream got %q; want the replies: it is still open", event)
	}
	// From an address with room, the fifth opens and the oldest gives way.
	openStreamOf(t, t.Context(), srv.URL, convID(0), from("192.0.2.5")...)
	if _, err := io.ReadAll(oldest); err != nil {
		t.Errorf("the oldest stream after a fifth opened: %v; want it ended", err)
	}
}

// TestChatClientAddrMissing: with ClientAddrHeader set, a request without it counts by its
// connection's address, is counted, and is logged once, without the address.
func TestChatClientAddrMissing(t *testing.T) {
	var logs bytes.Buffer
	conv := &fakeConversations{}
	conv.start(conversation)
	reg := prometheus.NewRegistry()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Conversations: conv, ClientAddrHeader: "X-Forwarded-For",
		NewPerSource: 2, NewPerSourceEvery: time.Hour, Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	tests := []struct {
		name   string
		body   string
		header []string
		status int
	}{
		{"without the header", say(convID(1), "/start"), nil, 200},
		{"again", say(convID(2), "/start"), nil, 200},
		{"a third: the connection's budget is spent", say(convID(3), "/start"), nil, 429},
		{"with the header", say(convID(4), "/start"), []string{"X-Forwarded-For", "203.0.113.9"}, 200},
		{"a header without an address", say(conversation, "hello"), []string{"X-Forwarded-For", "unknown"}, 200},
	}
	for _, tt := range tests {
		if w := postChat(chat, "/chat/messages", tt.body, tt.header...); w.Code != tt.status {
			t.Errorf("%s: status %d; want %d", tt.name, w.Code, tt.status)
		}
	}
	if got := testkit.Metric(t, reg, "faros_webchat_client_addr_missing_total"); got != 4 {
		t.Errorf("faros_webchat_client_addr_missing_total = %v; want 4", got)
	}
	if n := strings.Count(logs.String(), "lacks the client address header"); n != 1 {
		t.Errorf("the warning was logged %d times; want once:\n%s", n, logs.String())
	}
	// httptest's connection address.
	if strings.Contains(logs.String(), "192.0.2.1") || strings.Contains(logs.String(), "203.0.113.9") {
		t.Errorf("the log holds a client address:\n%s", logs.String())
	}
}
