package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
)

// conversation is an id as the page makes them.
const conversation = "0123456789abcdef0123456789abcdef"

func newChat(t *testing.T, h bot.Handler, keepAlive time.Duration) *webhook.Chat {
	t.Helper()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: h, ExitURL: "https://exit.example/", KeepAlive: keepAlive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chat.Close() })
	return chat
}

func TestNewChatErrors(t *testing.T) {
	_, err := webhook.NewChat(webhook.ChatConfig{ExitURL: "javascript:alert(1)"})
	for _, want := range []string{"handler is required", "exit URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewChat(bad config) = %v; want an error containing %q", err, want)
		}
	}
}

func TestChatSecurityHeaders(t *testing.T) {
	chat := newChat(t, &fakeHandler{}, 0)
	want := map[string]string{
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	}
	tests := []struct {
		method, path, body string
		status             int
		contentType        string
	}{
		{"GET", "/", "", http.StatusOK, "text/html; charset=utf-8"},
		{"HEAD", "/", "", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/chat/static/chat.js", "", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/chat/static/chat.css", "", http.StatusOK, "text/css; charset=utf-8"},
		{"GET", "/chat/static/icon.svg", "", http.StatusOK, "image/svg+xml"},
		{"POST", "/chat/messages", `{"conversation": "` + conversation + `", "text": "/start"}`, http.StatusOK, "application/json"},
		{"GET", "/chat/static/index.html", "", http.StatusNotFound, "application/json"},
		{"GET", "/favicon.ico", "", http.StatusNotFound, "application/json"},
		{"POST", "/", "", http.StatusMethodNotAllowed, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			chat.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.status, w.Body)
			}
			for header, value := range want {
				if got := w.Header().Get(header); got != value {
					t.Errorf("%s = %q; want %q", header, got, value)
				}
			}
			if got := w.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q; want %q", got, tt.contentType)
			}
			if got := w.Header().Values("Set-Cookie"); len(got) > 0 {
				t.Errorf("Set-Cookie = %q; want none", got)
			}
		})
	}
}

func TestChatPage(t *testing.T) {
	chat := newChat(t, &fakeHandler{}, 0)
	get := func(path string) string {
		w := httptest.NewRecorder()
		chat.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Body.String()
	}
	page := get("/")
	for _, want := range []string{`<title>Faros</title>`, `data-exit-url="https://exit.example/"`, `id="exit"`, `aria-live="polite"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	js, css := get("/chat/static/chat.js"), get("/chat/static/chat.css")
	all := strings.ToLower(page + js + css)
	// The tab title and the page must not tell an onlooker what this is.
	for _, word := range []string{"traffick", "victim", "exploit", "abuse"} {
		if strings.Contains(all, word) {
			t.Errorf("page, script or style holds %q", word)
		}
	}
	// Every request stays on this server: no CDN, font or analytics, and no inline script
	// or style, which the CSP would block.
	for _, s := range []string{"http://", "https://", "//cdn", "@import", "<script>", "style="} {
		if strings.Contains(strings.ReplaceAll(page, `data-exit-url="https://exit.example/"`, ""), s) || strings.Contains(js+css, s) {
			t.Errorf("page, script or style holds %q", s)
		}
	}
	// Nothing may outlive the page, and replies are text, never markup.
	for _, s := range []string{"localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches.", "serviceWorker", "innerHTML", "outerHTML", "insertAdjacentHTML", "eval("} {
		if strings.Contains(js, s) {
			t.Errorf("chat.js uses %s", s)
		}
	}
}

func TestChatMessage(t *testing.T) {
	tests := []struct {
		name           string
		body           string
		acceptLanguage string
		want           bot.Message
	}{
		{
			name:           "text with Accept-Language",
			body:           `{"conversation": "` + conversation + `", "text": "/start", "language": "fr-FR"}`,
			acceptLanguage: "el-GR,el;q=0.9,en;q=0.8",
			want:           bot.Message{Channel: "web", ChatID: conversation, Text: "/start", Language: "el-GR,el;q=0.9,en;q=0.8"},
		},
		{
			name: "choice with navigator.language",
			body: `{"conversation": "` + conversation + `", "choice": "safe", "language": "fr-FR"}`,
			want: bot.Message{Channel: "web", ChatID: conversation, Button: "safe", Language: "fr-FR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{replies: sampleReplies}
			r := httptest.NewRequest("POST", "/chat/messages", strings.NewReader(tt.body))
			if tt.acceptLanguage != "" {
				r.Header.Set("Accept-Language", tt.acceptLanguage)
			}
			w := httptest.NewRecorder()
			newChat(t, h, 0).ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; want 200 (body %s)", w.Code, w.Body)
			}
			if d := diffJSON(t, w.Body.String(), sampleJSON); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]bot.Message{tt.want}, h.messages()); d != "" {
				t.Errorf("handler got (-want +got):\n%s", d)
			}
		})
	}
}

func TestChatDuplicate(t *testing.T) {
	w := httptest.NewRecorder()
	body := `{"conversation": "` + conversation + `", "text": "hi"}`
	newChat(t, &fakeHandler{err: bot.ErrDuplicate}, 0).ServeHTTP(w, httptest.NewRequest("POST", "/chat/messages", strings.NewReader(body)))
	if d := diffJSON(t, w.Body.String(), `{"replies": [], "duplicate": true}`); w.Code != http.StatusOK || d != "" {
		t.Errorf("status = %d, body (-want +got):\n%s; want 200", w.Code, d)
	}
}

func TestChatMalformed(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		wantError                string
	}{
		{"short conversation", "POST", "/chat/messages", `{"conversation": "0123456789abcdef", "text": "hi"}`, 400, "conversation must be 32 to 128 lowercase hexadecimal digits"},
		{"upper-case conversation", "POST", "/chat/messages", `{"conversation": "0123456789ABCDEF0123456789ABCDEF", "text": "hi"}`, 400, "conversation must be 32 to 128 lowercase hexadecimal digits"},
		{"not hex", "POST", "/chat/messages", `{"conversation": "0123456789abcdef0123456789abcdeg", "text": "hi"}`, 400, "conversation must be 32 to 128 lowercase hexadecimal digits"},
		{"no conversation", "POST", "/chat/messages", `{"text": "hi"}`, 400, "conversation is required"},
		{"not JSON", "POST", "/chat/messages", `hi`, 400, "body is not a JSON object"},
		{"invalid UTF-8", "POST", "/chat/messages", "{\"conversation\": \"" + conversation + "\", \"text\": \"\xc3\"}", 400, "body is not valid UTF-8"},
		{"text too long", "POST", "/chat/messages", `{"conversation": "` + conversation + `", "text": "` + strings.Repeat("ω", 4097) + `"}`, 400, "text is longer than 4096 characters"},
		{"too large", "POST", "/chat/messages", `{"conversation": "` + conversation + `", "text": "` + strings.Repeat("a", 64<<10) + `"}`, 413, "body is larger than 65536 bytes"},
		{"GET messages", "GET", "/chat/messages", ``, 405, "method not allowed"},
		{"events without conversation", "GET", "/chat/events", ``, 400, "conversation must be 32 to 128 lowercase hexadecimal digits"},
		{"events with bad conversation", "GET", "/chat/events?conversation=1234", ``, 400, "conversation must be 32 to 128 lowercase hexadecimal digits"},
		{"POST events", "POST", "/chat/events?conversation=" + conversation, ``, 405, "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			w := httptest.NewRecorder()
			newChat(t, h, 0).ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if d := diffJSON(t, w.Body.String(), errorBody(tt.wantError)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if n := len(h.messages()); n != 0 {
				t.Errorf("handler got %d messages; want 0", n)
			}
		})
	}
}

// startServer serves h until the test ends, after the streams the test opens are closed.
func startServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// openStream connects to the chat's event stream for conversation and returns its lines.
func openStream(t *testing.T, ctx context.Context, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/chat/events?conversation="+conversation, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q; want text/event-stream", got)
	}
	return resp, bufio.NewReader(resp.Body)
}

// readEvent reads lines up to the next blank line.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (so far %q)", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

func TestChatSend(t *testing.T) {
	chat := newChat(t, &fakeHandler{}, time.Hour)
	srv := startServer(t, chat)

	if err := chat.Send(t.Context(), conversation, sampleReplies); !errors.Is(err, webhook.ErrNotConnected) {
		t.Errorf("Send before the page connects = %v; want ErrNotConnected", err)
	}

	ctx, disconnect := context.WithCancel(t.Context())
	_, events := openStream(t, ctx, srv.URL)
	if got, want := readEvent(t, events), "retry: 3000\n: open\n"; got != want {
		t.Errorf("first event = %q; want %q", got, want)
	}
	if err := chat.Send(t.Context(), conversation, sampleReplies); err != nil {
		t.Fatalf("Send = %v; want nil", err)
	}
	event := readEvent(t, events)
	data, ok := strings.CutPrefix(event, "event: replies\ndata: ")
	if !ok || strings.Count(data, "\n") != 1 {
		t.Fatalf("event = %q; want an event named replies with one data line", event)
	}
	if d := diffJSON(t, data, sampleJSON); d != "" {
		t.Errorf("event data (-want +got):\n%s", d)
	}
	if err := chat.Send(t.Context(), "fedcba9876543210fedcba9876543210", sampleReplies); !errors.Is(err, webhook.ErrNotConnected) {
		t.Errorf("Send to another conversation = %v; want ErrNotConnected", err)
	}

	// When the page goes away, its stream is removed and Send says so.
	disconnect()
	deadline := time.Now().Add(2 * time.Second)
	for chat.Send(t.Context(), conversation, sampleReplies) == nil {
		if time.Now().After(deadline) {
			t.Fatal("Send after the page disconnected = nil; want ErrNotConnected")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChatKeepAlive(t *testing.T) {
	srv := startServer(t, newChat(t, &fakeHandler{}, 10*time.Millisecond))
	_, events := openStream(t, t.Context(), srv.URL)
	readEvent(t, events) // open
	if got, want := readEvent(t, events), ": keep-alive\n"; got != want {
		t.Errorf("idle event = %q; want %q", got, want)
	}
}

func TestChatClose(t *testing.T) {
	chat := newChat(t, &fakeHandler{}, time.Hour)
	srv := startServer(t, chat)
	resp, events := openStream(t, t.Context(), srv.URL)
	readEvent(t, events)
	chat.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("read after Close = %v; want the stream to end cleanly", err)
	}
	if err := chat.Send(t.Context(), conversation, sampleReplies); !errors.Is(err, webhook.ErrNotConnected) {
		t.Errorf("Send after Close = %v; want ErrNotConnected", err)
	}
}

func TestChatLogs(t *testing.T) {
	var logs bytes.Buffer
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	body := `{"conversation": "` + conversation + `", "text": "my passport is gone"}`
	chat.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/chat/messages", strings.NewReader(body)))
	chat.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/chat/events?conversation="+strings.ToUpper(conversation), nil))
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("logged %d lines; want 2:\n%s", n, logs.String())
	}
	for _, secret := range []string{conversation, strings.ToUpper(conversation), "passport"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, logs.String())
		}
	}
}

// TestChatStreamCaps: a conversation keeps at most four event streams, a new one taking the
// oldest one's place (a phone that changed networks leaves dead connections behind); all
// conversations together are capped, beyond which a page gets 503 to try again after; a
// stream that ends frees its place.
func TestChatStreamCaps(t *testing.T) {
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, KeepAlive: time.Hour, MaxStreams: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chat.Close() })
	srv := startServer(t, chat)
	// open opens a stream and returns its status, its body and a way to close it.
	open := func(conv string) (int, *bufio.Reader, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/chat/events?conversation="+conv, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		body := bufio.NewReader(resp.Body)
		if resp.StatusCode == http.StatusOK {
			readEvent(t, body) // registered before it opened
		}
		return resp.StatusCode, body, cancel
	}
	var first *bufio.Reader
	for i := range 5 {
		got, body, _ := open(conversation)
		if got != http.StatusOK {
			t.Fatalf("stream %d of a conversation: status %d; want 200", i+1, got)
		}
		if i == 0 {
			first = body
		}
	}
	if _, err := io.ReadAll(first); err != nil {
		t.Errorf("the oldest stream, after a fifth opened: %v; want it ended", err)
	}
	got, _, leave := open(strings.Repeat("f", 32))
	if got != http.StatusOK {
		t.Errorf("another conversation's stream: status %d; want 200", got)
	}
	third := strings.Repeat("e", 32)
	if got, _, _ := open(third); got != http.StatusServiceUnavailable {
		t.Errorf("a stream beyond MaxStreams: status %d; want 503", got)
	}

	leave()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, _, _ := open(third)
		if got == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a page went away: status %d; want its place taken", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
