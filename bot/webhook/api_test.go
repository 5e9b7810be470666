package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
)

var (
	secret = []byte("test secret")
	now    = time.Unix(1_700_000_000, 0)
)

func newAPI(t *testing.T, h bot.Handler, callbackURL string) *webhook.API {
	t.Helper()
	api, err := webhook.New(webhook.Config{
		Secret:      secret,
		Handler:     h,
		CallbackURL: callbackURL,
		Now:         func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// post sends body to the API signed for time at, as a well-behaved caller does.
func post(api http.Handler, body string, at time.Time) *httptest.ResponseRecorder {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, webhook.APIPath, strings.NewReader(body))
	r.Header.Set("X-Faros-Timestamp", ts)
	r.Header.Set("X-Faros-Signature", webhook.Sign(secret, ts, []byte(body)))
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	return w
}

func TestNewRequiresSecretAndHandler(t *testing.T) {
	_, err := webhook.New(webhook.Config{CallbackURL: "ftp://example.com/"})
	for _, want := range []string{"secret is required", "handler is required", "callback URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(bad config) = %v; want an error containing %q", err, want)
		}
	}
}

func TestSign(t *testing.T) {
	// The value a caller computes with: printf '1700000000.{}' | openssl dgst -sha256 -hmac 'test secret'
	got := webhook.Sign(secret, "1700000000", []byte("{}"))
	want := "sha256=229e7ee0c66efef6c51e4370d024df6e6b4af81687915ec987495cd9d60657fe"
	if got != want {
		t.Errorf("Sign = %s; want %s", got, want)
	}
}

func TestSignature(t *testing.T) {
	const body = `{"conversation": "c1", "text": "hello"}`
	ts := strconv.FormatInt(now.Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	good := webhook.Sign(secret, ts, []byte(body))
	tests := []struct {
		name      string
		timestamp string
		signature string
		want      int
	}{
		{"good", ts, good, http.StatusOK},
		{"upper-case hex", ts, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), http.StatusOK},
		{"4m59s old", at(-299 * time.Second), webhook.Sign(secret, at(-299*time.Second), []byte(body)), http.StatusOK},
		{"4m59s ahead", at(299 * time.Second), webhook.Sign(secret, at(299*time.Second), []byte(body)), http.StatusOK},
		{"stale past", at(-301 * time.Second), webhook.Sign(secret, at(-301*time.Second), []byte(body)), http.StatusUnauthorized},
		{"stale future", at(301 * time.Second), webhook.Sign(secret, at(301*time.Second), []byte(body)), http.StatusUnauthorized},
		{"wrong secret", ts, webhook.Sign([]byte("other"), ts, []byte(body)), http.StatusUnauthorized},
		{"other body", ts, webhook.Sign(secret, ts, []byte(body+" ")), http.StatusUnauthorized},
		{"other timestamp", ts, webhook.Sign(secret, at(time.Second), []byte(body)), http.StatusUnauthorized},
		{"no prefix", ts, strings.TrimPrefix(good, "sha256="), http.StatusUnauthorized},
		{"not hex", ts, "sha256=zz", http.StatusUnauthorized},
		{"truncated", ts, good[:len(good)-2], http.StatusUnauthorized},
		{"timestamp not a number", "soon", webhook.Sign(secret, "soon", []byte(body)), http.StatusUnauthorized},
		{"missing timestamp", "", good, http.StatusUnauthorized},
		{"missing signature", ts, "", http.StatusUnauthorized},
		{"missing both", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			r := httptest.NewRequest(http.MethodPost, webhook.APIPath, strings.NewReader(body))
			if tt.timestamp != "" {
				r.Header.Set("X-Faros-Timestamp", tt.timestamp)
			}
			if tt.signature != "" {
				r.Header.Set("X-Faros-Signature", tt.signature)
			}
			w := httptest.NewRecorder()
			newAPI(t, h, "").ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if n := len(h.messages()); tt.want != http.StatusOK && n != 0 {
				t.Errorf("handler got %d messages; want 0 for a refused request", n)
			}
			if tt.want == http.StatusUnauthorized {
				if d := diffJSON(t, w.Body.String(), errorBody("bad signature or timestamp")); d != "" {
					t.Errorf("body (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"too large", "", "", `{"conversation": "c", "text": "` + strings.Repeat("a", 1<<20) + `"}`, http.StatusRequestEntityTooLarge, "body is larger than 1048576 bytes"},
		{"not JSON", "", "", `conversation=c&text=hi`, http.StatusBadRequest, "body is not a JSON object"},
		{"array", "", "", `[{"conversation": "c", "text": "hi"}]`, http.StatusBadRequest, "body is not a JSON object"},
		{"trailing data", "", "", `{"conversation": "c", "text": "hi"} {}`, http.StatusBadRequest, "body is not a JSON object"},
		{"empty", "", "", ``, http.StatusBadRequest, "body is not a JSON object"},
		{"invalid UTF-8", "", "", "{\"conversation\": \"c\", \"text\": \"\xff\xfe\"}", http.StatusBadRequest, "body is not valid UTF-8"},
		{"text not a string", "", "", `{"conversation": "c", "text": 7}`, http.StatusBadRequest, "text must be a string"},
		{"no conversation", "", "", `{"text": "hi"}`, http.StatusBadRequest, "conversation is required"},
		{"null", "", "", `null`, http.StatusBadRequest, "conversation is required"},
		{"conversation too long", "", "", `{"conversation": "` + strings.Repeat("c", 257) + `", "text": "hi"}`, http.StatusBadRequest, "conversation is longer than 256 bytes"},
		{"text too long", "", "", `{"conversation": "c", "text": "` + strings.Repeat("α", 4097) + `"}`, http.StatusBadRequest, "text is longer than 4096 characters"},
		{"choice too long", "", "", `{"conversation": "c", "choice": "` + strings.Repeat("x", 65) + `"}`, http.StatusBadRequest, "choice is longer than 64 bytes"},
		{"nothing said", "", "", `{"conversation": "c", "language": "el"}`, http.StatusBadRequest, "text or choice is required"},
		{"GET", http.MethodGet, "", ``, http.StatusMethodNotAllowed, "method not allowed"},
		{"PUT", http.MethodPut, "", `{"conversation": "c", "text": "hi"}`, http.StatusMethodNotAllowed, "method not allowed"},
		{"other path", "", "/api/v1/other", `{"conversation": "c", "text": "hi"}`, http.StatusNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			method, path := http.MethodPost, webhook.APIPath
			if tt.method != "" {
				method = tt.method
			}
			if tt.path != "" {
				path = tt.path
			}
			ts := strconv.FormatInt(now.Unix(), 10)
			r := httptest.NewRequest(method, path, strings.NewReader(tt.body))
			r.Header.Set("X-Faros-Timestamp", ts)
			r.Header.Set("X-Faros-Signature", webhook.Sign(secret, ts, []byte(tt.body)))
			w := httptest.NewRecorder()
			newAPI(t, h, "").ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", got)
			}
			if d := diffJSON(t, w.Body.String(), errorBody(tt.wantError)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed {
				if got := w.Header().Get("Allow"); got != "POST" {
					t.Errorf("Allow = %q; want POST", got)
				}
			}
			if n := len(h.messages()); n != 0 {
				t.Errorf("handler got %d messages; want 0", n)
			}
		})
	}
}

func TestLongestText(t *testing.T) {
	h := &fakeHandler{}
	text := strings.Repeat("α", 4096) // 4096 characters, 8192 bytes
	w := post(newAPI(t, h, ""), `{"conversation": "c", "text": "`+text+`"}`, now)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200 (body %s)", w.Code, w.Body)
	}
}

func TestReplies(t *testing.T) {
	h := &fakeHandler{replies: sampleReplies}
	api := newAPI(t, h, "")
	body := `{"conversation": "conv-1", "id": "m-1", "text": "hi", "choice": "safe", "language": "el"}`
	w := post(api, body, now)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200 (body %s)", w.Code, w.Body)
	}
	if d := diffJSON(t, w.Body.String(), sampleJSON); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
	for header, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(header); got != want {
			t.Errorf("%s = %q; want %q", header, got, want)
		}
	}
	want := []bot.Message{{Channel: "api", ChatID: "conv-1", ID: "m-1", Text: "hi", Button: "safe", Language: "el", Replay: true}}
	if d := cmp.Diff(want, h.messages()); d != "" {
		t.Errorf("handler got (-want +got):\n%s", d)
	}
}

func TestNoReplies(t *testing.T) {
	w := post(newAPI(t, &fakeHandler{}, ""), `{"conversation": "c", "text": "hi"}`, now)
	if d := diffJSON(t, w.Body.String(), `{"replies": []}`); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

// TestIdempotencyKeyOnlySigned: the idempotency key is the signed body's id; an
// Idempotency-Key header, which anyone replaying a request could change, is ignored.
func TestIdempotencyKeyOnlySigned(t *testing.T) {
	tests := []struct {
		name, body, header, want string
	}{
		{"header only", `{"conversation": "c", "text": "hi"}`, "k-header", ""},
		{"body and header", `{"conversation": "c", "id": "k-body", "text": "hi"}`, "k-header", "k-body"},
		{"body only", `{"conversation": "c", "id": "k-body", "text": "hi"}`, "", "k-body"},
		{"neither", `{"conversation": "c", "text": "hi"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			ts := strconv.FormatInt(now.Unix(), 10)
			r := httptest.NewRequest(http.MethodPost, webhook.APIPath, strings.NewReader(tt.body))
			r.Header.Set("X-Faros-Timestamp", ts)
			r.Header.Set("X-Faros-Signature", webhook.Sign(secret, ts, []byte(tt.body)))
			if tt.header != "" {
				r.Header.Set("Idempotency-Key", tt.header)
			}
			newAPI(t, h, "").ServeHTTP(httptest.NewRecorder(), r)
			got := h.messages()
			if len(got) != 1 || got[0].ID != tt.want {
				t.Errorf("handler got %+v; want one message with ID %q", got, tt.want)
			}
		})
	}
}

// TestDuplicate: a redelivery is a success marked duplicate, with the replies the handler
// kept for it (those that may never have reached the sender).
func TestDuplicate(t *testing.T) {
	tests := []struct {
		name    string
		replies []bot.Reply
		want    string
	}{
		{"answered before", nil, `{"replies": [], "duplicate": true}`},
		{"its replies kept", []bot.Reply{{Text: "Are you safe?", Buttons: []bot.Button{{Data: "gate/safe", Label: "Yes"}}}},
			`{"replies": [{"text": "Are you safe?", "choices": [{"id": "gate/safe", "label": "Yes"}]}], "duplicate": true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{replies: tt.replies, err: bot.ErrDuplicate}
			w := post(newAPI(t, h, ""), `{"conversation": "c", "id": "m-1", "text": "hi"}`, now)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; want 200", w.Code)
			}
			if d := diffJSON(t, w.Body.String(), tt.want); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}

func TestHandlerErrorHidden(t *testing.T) {
	h := &fakeHandler{err: errors.New("redis: connection refused at 10.0.0.7")}
	var logs bytes.Buffer
	api, err := webhook.New(webhook.Config{
		Secret:  secret,
		Handler: h,
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	w := post(api, `{"conversation": "c", "text": "hi"}`, now)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d; want 500", w.Code)
	}
	if d := diffJSON(t, w.Body.String(), errorBody("internal error")); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log = %s; want the handler's error in it", logs.String())
	}
}

// TestLogs checks that one line is logged per request and that it holds neither the text nor
// the conversation id.
func TestLogs(t *testing.T) {
	var logs bytes.Buffer
	api, err := webhook.New(webhook.Config{
		Secret:  secret,
		Handler: &fakeHandler{},
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	post(api, `{"conversation": "secret-conversation", "id": "key-1", "text": "my boss keeps my passport"}`, now)
	post(api, `{"conversation": "secret-conversation", "text": "`+strings.Repeat("passport ", 500)+`"}`, now)
	// A path is whatever a client sends: a megabyte of it must not reach the log.
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	r.URL.Path = "/" + strings.Repeat("passport", 1<<17)
	api.ServeHTTP(httptest.NewRecorder(), r)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines; want 3:\n%.1000s", len(lines), logs.String())
	}
	for _, secret := range []string{"secret-conversation", "passport", "key-1"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q:\n%.1000s", secret, logs.String())
		}
	}
	for i, want := range []struct {
		status int
		route  string
	}{{http.StatusOK, webhook.APIPath}, {http.StatusBadRequest, webhook.APIPath}, {http.StatusNotFound, "unknown"}} {
		var line struct {
			Status int    `json:"status"`
			Route  string `json:"route"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &line); err != nil {
			t.Fatal(err)
		}
		if line.Status != want.status || line.Route != want.route {
			t.Errorf("log line %d = %s; want status %d and route %s", i+1, lines[i], want.status, want.route)
		}
	}
}

// callback is a fake receiver of Send's posts.
type callback struct {
	// fail answers each attempt before it succeeds: a status, or 0 to drop the connection.
	fail []int

	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.requests = append(c.requests, r)
	c.bodies = append(c.bodies, string(body))
	n := len(c.requests)
	c.mu.Unlock()
	if n > len(c.fail) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if c.fail[n-1] == 0 {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
		return
	}
	w.WriteHeader(c.fail[n-1])
}

func (c *callback) got() ([]*http.Request, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.bodies
}

func TestSend(t *testing.T) {
	cb := &callback{}
	srv := httptest.NewServer(cb)
	defer srv.Close()
	if err := newAPI(t, &fakeHandler{}, srv.URL+"/faros").Send(t.Context(), "conv-9", sampleReplies); err != nil {
		t.Fatalf("Send = %v; want nil", err)
	}
	requests, bodies := cb.got()
	if len(requests) != 1 {
		t.Fatalf("callback got %d requests; want 1", len(requests))
	}
	r, body := requests[0], bodies[0]
	if r.Method != http.MethodPost || r.URL.Path != "/faros" {
		t.Errorf("request = %s %s; want POST /faros", r.Method, r.URL.Path)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	for header, want := range map[string]string{
		"Content-Type":      "application/json",
		"X-Faros-Timestamp": ts,
		"X-Faros-Signature": webhook.Sign(secret, ts, []byte(body)),
	} {
		if got := r.Header.Get(header); got != want {
			t.Errorf("%s = %q; want %q", header, got, want)
		}
	}
	if r.Header.Get("Idempotency-Key") == "" {
		t.Error("Idempotency-Key is empty; want a key")
	}
	var want map[string]any
	json.Unmarshal([]byte(sampleJSON), &want)
	want["conversation"] = "conv-9"
	wantJSON, _ := json.Marshal(want)
	if d := diffJSON(t, body, string(wantJSON)); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name     string
		fail     []int
		wantErr  bool
		attempts int
	}{
		{"server errors then success", []int{http.StatusServiceUnavailable, http.StatusInternalServerError}, false, 3},
		{"dropped connection then success", []int{0}, false, 2},
		{"too many requests then success", []int{http.StatusTooManyRequests}, false, 2},
		{"server errors every time", []int{500, 502, 503, 504, 500}, true, 4},
		{"client error", []int{http.StatusBadRequest}, true, 1},
		{"unauthorized", []int{http.StatusUnauthorized}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits for its backoff
			cb := &callback{fail: tt.fail}
			srv := httptest.NewServer(cb)
			defer srv.Close()
			err := newAPI(t, &fakeHandler{}, srv.URL).Send(t.Context(), "c", sampleReplies)
			if (err != nil) != tt.wantErr {
				t.Errorf("Send = %v; want error: %v", err, tt.wantErr)
			}
			requests, _ := cb.got()
			if len(requests) != tt.attempts {
				t.Fatalf("callback got %d requests; want %d", len(requests), tt.attempts)
			}
			for _, r := range requests[1:] {
				if got, want := r.Header.Get("Idempotency-Key"), requests[0].Header.Get("Idempotency-Key"); got != want {
					t.Errorf("retry Idempotency-Key = %q; want %q as the first attempt", got, want)
				}
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	if err := newAPI(t, &fakeHandler{}, "").Send(t.Context(), "c", sampleReplies); err == nil {
		t.Error("Send without callback URL = nil; want an error")
	}

	// A canceled context stops the retries at once.
	srv := httptest.NewServer(&callback{fail: []int{503, 503, 503, 503}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	err := newAPI(t, &fakeHandler{}, srv.URL+"/?token=hush").Send(ctx, "c", sampleReplies)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send with canceled context = %v; want context.Canceled", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Send with canceled context took %v; want no retries", d)
	}
	if err != nil && strings.Contains(err.Error(), "hush") {
		t.Errorf("Send error %q holds the callback URL's token", err)
	}
}

// Callbacks run side by side (counsellors writing to several conversations). Each must find a
// connection to the callback URL already open, not make a new one because Go keeps only two
// idle ones to a host by default.
func TestCallbacksKeepTheirConnectionsOpen(t *testing.T) {
	const side = 48
	var (
		opened  atomic.Int64
		arrived = make(chan struct{}, side)
		release = make(chan struct{}, side)
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release // all at once, each on a connection of its own
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	api := newAPI(t, &fakeHandler{}, srv.URL+"/faros")
	wave := func() {
		t.Helper()
		errs := make(chan error, side)
		for i := range side {
			go func() { errs <- api.Send(t.Context(), fmt.Sprint("conv-", i), sampleReplies) }()
		}
		for range side {
			<-arrived
		}
		for range side {
			release <- struct{}{}
		}
		for range side {
			if err := <-errs; err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
	}
	wave()
	first := opened.Load()
	wave()
	if again := opened.Load() - first; again > 0 {
		t.Errorf("%d callbacks side by side opened %d new connections after the first %d; want none", side, again, first)
	}
}
