package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// postChat posts body to the chat at path as its page does, in JSON; header holds more
// headers, as name, value pairs. Without Origin and Sec-Fetch-Site the request is not a
// browser's, and passes the same-origin check.
func postChat(h http.Handler, path, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// say is the body of a message of conversation conv.
func say(conv, text string) string { return `{"conversation": "` + conv + `", "text": "` + text + `"}` }

func TestNewChatErrors(t *testing.T) {
	_, err := webhook.NewChat(webhook.ChatConfig{ExitURL: "javascript:alert(1)", MaxStreams: -1, NewPerSourceEvery: -time.Second,
		ClientAddrHeader: "X-Forwarded-For: 1.2.3.4"})
	for _, want := range []string{"handler is required", "exit URL", "max streams is negative", "new conversation interval is negative", "not a header name"} {
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
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			chat.ServeHTTP(w, r)
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
			var header []string
			if tt.acceptLanguage != "" {
				header = []string{"Accept-Language", tt.acceptLanguage}
			}
			w := postChat(newChat(t, h, 0), "/chat/messages", tt.body, header...)
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
	w := postChat(newChat(t, &fakeHandler{err: bot.ErrDuplicate}, 0), "/chat/messages", say(conversation, "hi"))
	if d := diffJSON(t, w.Body.String(), `{"replies": [], "duplicate": true}`); w.Code != http.StatusOK || d != "" {
		t.Errorf("status = %d, body (-want +got):\n%s; want 200", w.Code, d)
	}
}

func TestChatMalformed(t *testing.T) {
	const bad = "conversation must be 32 to 128 lowercase hexadecimal digits"
	asJSON := []string{"Content-Type", "application/json"}
	tests := []struct {
		name, method, path, body string
		header                   []string // name, value pairs
		status                   int
		wantError                string
	}{
		{"short conversation", "POST", "/chat/messages", say("0123456789abcdef", "hi"), asJSON, 400, bad},
		{"upper-case conversation", "POST", "/chat/messages", say("0123456789ABCDEF0123456789ABCDEF", "hi"), asJSON, 400, bad},
		{"not hex", "POST", "/chat/messages", say("0123456789abcdef0123456789abcdeg", "hi"), asJSON, 400, bad},
		{"no conversation", "POST", "/chat/messages", `{"text": "hi"}`, asJSON, 400, "conversation is required"},
		{"not JSON", "POST", "/chat/messages", `hi`, asJSON, 400, "body is not a JSON object"},
		{"invalid UTF-8", "POST", "/chat/messages", "{\"conversation\": \"" + conversation + "\", \"text\": \"\xc3\"}", asJSON, 400, "body is not valid UTF-8"},
		{"text too long", "POST", "/chat/messages", say(conversation, strings.Repeat("ω", 4097)), asJSON, 400, "text is longer than 4096 characters"},
		{"too large", "POST", "/chat/messages", say(conversation, strings.Repeat("a", 64<<10)), asJSON, 413, "body is larger than 65536 bytes"},
		{"GET messages", "GET", "/chat/messages", ``, nil, 405, "method not allowed"},
		{"text/plain, as a beacon or a form sends", "POST", "/chat/messages", say(conversation, "/wipe"), []string{"Content-Type", "text/plain;charset=UTF-8"}, 415, "Content-Type must be application/json"},
		{"a form", "POST", "/chat/messages", "conversation=" + conversation + "&text=hi", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "Content-Type must be application/json"},
		{"no Content-Type", "POST", "/chat/messages", say(conversation, "hi"), nil, 415, "Content-Type must be application/json"},
		{"another site", "POST", "/chat/messages", say(conversation, "hi"), append([]string{"Sec-Fetch-Site", "cross-site"}, asJSON...), 403, "cross-origin request refused"},
		{"another origin", "POST", "/chat/messages", say(conversation, "hi"), append([]string{"Origin", "https://elsewhere.example"}, asJSON...), 403, "cross-origin request refused"},
		{"events by GET", "GET", "/chat/events?conversation=" + conversation, ``, nil, 405, "method not allowed"},
		{"events with the id in the query", "POST", "/chat/events?conversation=" + conversation, ``, asJSON, 400, "body is not a JSON object"},
		{"events without conversation", "POST", "/chat/events", `{}`, asJSON, 400, bad},
		{"events with bad conversation", "POST", "/chat/events", `{"conversation": "1234"}`, asJSON, 400, bad},
		{"events with a number", "POST", "/chat/events", `{"conversation": 1234}`, asJSON, 400, "conversation must be a string"},
		{"events too large", "POST", "/chat/events", `{"conversation": "` + strings.Repeat("a", 2000) + `"}`, asJSON, 413, "body is larger than 1024 bytes"},
		{"events in text/plain", "POST", "/chat/events", `{"conversation": "` + conversation + `"}`, []string{"Content-Type", "text/plain"}, 415, "Content-Type must be application/json"},
		{"events from another site", "POST", "/chat/events", `{"conversation": "` + conversation + `"}`, append([]string{"Sec-Fetch-Site", "same-site"}, asJSON...), 403, "cross-origin request refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			w := httptest.NewRecorder()
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			chat := newChat(t, h, 0)
			chat.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if d := diffJSON(t, w.Body.String(), errorBody(tt.wantError)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if n := len(h.messages()); n != 0 {
				t.Errorf("handler got %d messages; want 0", n)
			}
			if err := chat.Send(t.Context(), conversation, sampleReplies); !errors.Is(err, webhook.ErrNotConnected) {
				t.Errorf("Send after the request = %v; want ErrNotConnected (no stream registered)", err)
			}
		})
	}
}

// TestChatSameOrigin: the page's own requests pass the same-origin check, whichever header
// the browser sends.
func TestChatSameOrigin(t *testing.T) {
	tests := []struct {
		name   string
		header []string
	}{
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin"}},
		{"Sec-Fetch-Site none (typed by the person)", []string{"Sec-Fetch-Site", "none"}},
		{"Origin of the Host", []string{"Origin", "http://example.com"}},
		{"neither: not a browser", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := postChat(newChat(t, &fakeHandler{}, 0), "/chat/messages", say(conversation, "hi"), tt.header...)
			if w.Code != http.StatusOK {
				t.Errorf("status = %d; want 200 (body %s)", w.Code, w.Body)
			}
		})
	}
}

// TestOverloaded: a message the bot could not take this second (bot.ErrOverloaded) gets 503
// with Retry-After, from the web chat and from the API, so that the sender tries again.
func TestOverloaded(t *testing.T) {
	h := &fakeHandler{err: fmt.Errorf("handle: %w", bot.ErrOverloaded)}
	for name, w := range map[string]*httptest.ResponseRecorder{
		"web chat": postChat(newChat(t, h, 0), "/chat/messages", say(conversation, "hi")),
		"API":      post(newAPI(t, h, ""), `{"conversation": "c", "text": "hi"}`, now),
	} {
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
			t.Errorf("%s: status %d, Retry-After %q; want 503, 1", name, w.Code, w.Header().Get("Retry-After"))
		}
		if d := diffJSON(t, w.Body.String(), errorBody("too many messages at once; try again in a second")); d != "" {
			t.Errorf("%s: body (-want +got):\n%s", name, d)
		}
	}
}

// startServer serves h until the test ends, after the streams the test opens are closed.
func startServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// dial asks the chat at url for the event stream of conversation conv, as the page does, and
// returns the answer; header holds more headers, as name, value pairs.
func dial(t *testing.T, ctx context.Context, url, conv string, header ...string) *http.Response {
	t.Helper()
	return dialBody(t, ctx, url, `{"conversation": "`+conv+`"}`, header...)
}

// dialBody asks the chat at url for an event stream with body, as the page does.
func dialBody(t *testing.T, ctx context.Context, url, body string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/chat/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// openStream connects to the chat's event stream for conversation and returns its lines.
func openStream(t *testing.T, ctx context.Context, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	return openStreamOf(t, ctx, url, conversation)
}

// openStreamOf connects to the chat's event stream for conv, checks that it opened, and
// returns its lines.
func openStreamOf(t *testing.T, ctx context.Context, url, conv string, header ...string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp := dial(t, ctx, url, conv, header...)
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
	if got, want := readEvent(t, events), ": open\n"; got != want {
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

// TestChatLogs: one line a request, naming its route, never its path, the conversation id
// or the text.
func TestChatLogs(t *testing.T) {
	var logs bytes.Buffer
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	long := "/" + strings.Repeat("passport", 1<<17) // 1 MiB
	tests := []struct {
		method, path, body string
		route              string
	}{
		{"GET", "/", "", "/"},
		{"POST", "/chat/messages", say(conversation, "my passport is gone"), "/chat/messages"},
		{"POST", "/chat/events", `{"conversation": "` + strings.ToUpper(conversation) + `"}`, "/chat/events"},
		{"GET", "/chat/static/chat.js", "", "/chat/static"},
		{"GET", "/chat/static/" + conversation, "", "/chat/static"},
		{"GET", "/chat/events?conversation=" + conversation, "", "/chat/events"},
		{"POST", long, say(conversation, "hi"), "unknown"},
		{"PASSPORT", "/", "", "/"},
	}
	for _, tt := range tests {
		logs.Reset()
		r := httptest.NewRequest("GET", "/", strings.NewReader(tt.body))
		r.Method, r.URL.Path = tt.method, tt.path
		if i := strings.IndexByte(tt.path, '?'); i >= 0 {
			r.URL.Path, r.URL.RawQuery = tt.path[:i], tt.path[i+1:]
		}
		r.Header.Set("Content-Type", "application/json")
		chat.ServeHTTP(httptest.NewRecorder(), r)
		name := tt.method + " " + tt.path[:min(len(tt.path), 40)]
		var line struct {
			Route  string `json:"route"`
			Method string `json:"method"`
		}
		if n := strings.Count(logs.String(), "\n"); n != 1 {
			t.Errorf("%s: logged %d lines; want 1:\n%s", name, n, logs.String())
			continue
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Route != tt.route {
			t.Errorf("%s: log line %.200s; want route %q", name, logs.String(), tt.route)
		}
		for _, secret := range []string{conversation, strings.ToUpper(conversation), "passport", "PASSPORT"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("%s: log holds %q: %.300s", name, secret, logs.String())
			}
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
		resp := dial(t, ctx, srv.URL, conv)
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

// TestChatStreamOutlivesReadTimeout: the service's server has a ReadTimeout against clients
// that send slowly; an event stream, whose request was read long ago, lives on past it.
func TestChatStreamOutlivesReadTimeout(t *testing.T) {
	srv := httptest.NewUnstartedServer(newChat(t, &fakeHandler{}, 100*time.Millisecond))
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	_, events := openStream(t, t.Context(), srv.URL)
	readEvent(t, events) // open
	for range 8 {        // 800 ms: four times the ReadTimeout
		if got, want := readEvent(t, events), ": keep-alive\n"; got != want {
			t.Fatalf("event = %q; want %q", got, want)
		}
	}
}
