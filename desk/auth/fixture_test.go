package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/faros-project/faros/internal/redistest"
)

const testOrigin = "http://localhost:8081"

// fixture is an Auth on a test Redis with a fake clock, a roster the test changes, captured
// logs, and a server with the routes, an /api/ that echoes the session and an app at /.
type fixture struct {
	t   *testing.T
	r   *redistest.Redis
	a   *Auth
	srv *httptest.Server
	// origin is the desk's address: testOrigin, or http://localhost:PORT for a browser
	origin string

	mu     sync.Mutex
	now    time.Time
	roster map[string]string // id → alias
	logs   bytes.Buffer
}

func newFixture(t *testing.T) *fixture { return newFixtureOn(t, nil) }

// newFixtureOn serves on ln, as http://localhost:PORT, for a browser; nil: anywhere, with the
// desk's address testOrigin.
func newFixtureOn(t *testing.T, ln net.Listener) *fixture { return newFixtureWith(t, ln, nil) }

// newFixtureWith is newFixtureOn with a change to the Config, when edit is not nil.
func newFixtureWith(t *testing.T, ln net.Listener, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, r: redistest.New(t), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		roster: map[string]string{"maria": "Μαρία", "nikos": "Νίκος", "eleni": "Ελένη"}, origin: testOrigin}
	if ln != nil {
		f.origin = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	cfg := Config{Redis: f.r.Client, Prefix: f.r.Prefix, Secret: bytes.Repeat([]byte("k"), 32), Origin: f.origin,
		Known: f.known, Now: f.clock, Logger: slog.New(slog.NewTextHandler(lockedWriter{f}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.argon = argonParams{Time: 1, Memory: 64, Threads: 1} // the real costs are for a server, not for tests
	f.a = a
	mux := http.NewServeMux()
	a.Routes(mux)
	mux.Handle("/api/", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := From(r.Context())
		if !ok {
			t.Error("Require let a request through without a session in its context")
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": s.Operator, "csrf": s.CSRF, "session": s.ID})
	})))
	mux.Handle("GET /{$}", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "the desk")
	})))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f.srv = httptest.NewUnstartedServer(mux)
	if ln != nil {
		f.srv.Listener.Close()
		f.srv.Listener = ln
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

type lockedWriter struct{ f *fixture }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.logs.Write(p)
}

func (f *fixture) logText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs.String()
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) known(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	alias, ok := f.roster[id]
	return alias, ok
}

func (f *fixture) setKnown(id string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on {
		f.roster[id] = id
	} else {
		delete(f.roster, id)
	}
}

// browser keeps cookies as a browser would, and sends the desk's Origin with its POSTs.
type browser struct {
	f       *fixture
	cookies map[string]*http.Cookie
	origin  string
	seen    []*http.Cookie // every Set-Cookie received
}

func (f *fixture) browser() *browser {
	return &browser{f: f, cookies: map[string]*http.Cookie{}, origin: f.origin}
}

type reply struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

// send makes a request; body is JSON-encoded unless it is a string; hdr are name, value pairs
// (a value "" removes the header).
func (b *browser) send(method, path string, body any, hdr ...string) reply {
	b.f.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		j, _ := json.Marshal(v)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, rd)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.origin != "" && method != http.MethodGet {
		req.Header.Set("Origin", b.origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rep := reply{status: resp.StatusCode, raw: string(raw), header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &rep.body); err != nil {
			b.f.t.Errorf("%s %s: not JSON: %q", method, path, raw)
		}
	}
	for _, c := range resp.Cookies() {
		b.seen = append(b.seen, c)
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rep
}

func (b *browser) post(path string, body any, hdr ...string) reply {
	b.f.t.Helper()
	return b.send(http.MethodPost, path, body, hdr...)
}

// me reads /api/ as the app would and returns the session's CSRF token ("" when signed out).
func (b *browser) me() (int, string) {
	b.f.t.Helper()
	r := b.send(http.MethodGet, "/api/me", nil)
	return r.status, r.str("csrf")
}

// busy does something as the app would (a POST with the CSRF token), which renews the session's
// idle timer; it returns the POST's status.
func (b *browser) busy() int {
	b.f.t.Helper()
	st, csrf := b.me()
	if st != http.StatusOK {
		return st
	}
	return b.post("/api/alive", map[string]any{}, "X-CSRF-Token", csrf).status
}

func (f *fixture) invite(id string) string {
	f.t.Helper()
	link, _, err := f.a.Invite(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	_, token, ok := strings.Cut(link, "#")
	if !ok || !strings.HasPrefix(link, f.origin+"/enrol#") {
		f.t.Fatalf("invitation link %q", link)
	}
	return token
}

func (f *fixture) code(secret string) string {
	f.t.Helper()
	c, err := totp.GenerateCode(secret, f.clock())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// enrolTOTP enrols id with password in b through the pages' endpoints and returns the TOTP
// secret; b is then signed in.
func (f *fixture) enrolTOTP(b *browser, id, password string) string {
	f.t.Helper()
	token := f.invite(id)
	r := b.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": password})
	if r.status != http.StatusOK || r.str("secret") == "" || !strings.HasPrefix(r.str("qr"), "data:image/png;base64,") {
		f.t.Fatalf("enrol totp begin: %d %s", r.status, r.raw)
	}
	secret := r.str("secret")
	r = b.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(secret)})
	if r.status != http.StatusOK {
		f.t.Fatalf("enrol totp finish: %d %s", r.status, r.raw)
	}
	return secret
}

// signin signs b in with a password and the code of the next time step; hdr as for send.
func (f *fixture) signin(b *browser, id, password, secret string, hdr ...string) reply {
	f.t.Helper()
	f.advance(30 * time.Second)
	return b.post("/auth/password", map[string]string{"id": id, "password": password, "code": f.code(secret)}, hdr...)
}

const goodPassword = "blue harbour lanterns at dawn"

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
