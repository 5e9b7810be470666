// Package desk serves the counsellors' desk in the browser: the queue of cases, each case's
// thread with its packet, a composer bound to its case, canned replies, live alerts and
// supervision, on its own listener, behind package auth's sign-in.
package desk

// The server: configuration, the routes, the security headers every answer carries, and the
// event stream. The JSON API is api.go's; pokes cross instances in events.go.

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/locales"
)

//go:embed static
var static embed.FS

// Config configures a Server; all but Logger and Alive are required.
type Config struct {
	Desk    *handoff.Desk
	Auth    *auth.Auth
	Hub     *Hub
	Catalog func() *locales.Catalog // the messages in force: the canned replies
	Logger  *slog.Logger
	// Alive is how often an event stream checks that its session still holds; 0: 5 seconds.
	Alive time.Duration
	// Secure adds Strict-Transport-Security: the desk is served over HTTPS.
	Secure bool
}

// Server is the desk's HTTP server; Handler serves it, Close ends its event streams.
type Server struct {
	cfg  Config
	log  *slog.Logger
	stop chan struct{}
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Desk == nil || cfg.Auth == nil || cfg.Hub == nil || cfg.Catalog == nil {
		return nil, errors.New("desk: Desk, Auth, Hub and Catalog are required")
	}
	if cfg.Alive == 0 {
		cfg.Alive = 5 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Close ends the event streams, so that a server's Shutdown need not wait for them.
func (s *Server) Close() { close(s.stop) }

// Handler returns the desk's routes, each answer with the security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.cfg.Auth.Routes(mux)
	files, _ := fs.Sub(static, "static")
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		// Not http.FileServer: its errors drop Cache-Control, and every answer here has no-store.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if f, err := fs.Stat(files, name); err != nil || f.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeFileFS(w, r, files, name)
	})
	need := s.cfg.Auth.Require
	mux.Handle("GET /{$}", need(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})))
	api := func(pattern string, h apiFunc) { mux.Handle(pattern, need(s.api(h))) }
	api("GET /api/me", s.me)
	api("GET /api/board", s.board)
	api("GET /api/cases/{id}", s.viewCase)
	api("GET /api/cases/{id}/audit", s.audit)
	api("POST /api/cases/{id}/{action}", s.act)
	api("POST /api/duty", s.duty)
	mux.Handle("GET /api/events", need(http.HandlerFunc(s.events)))
	return headers(mux, s.cfg.Secure)
}

// headers adds to every answer what keeps the desk's pages to themselves: no script, style,
// frame or request but the desk's own, nothing cached, nothing sniffed, no referrer.
func headers(next http.Handler, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// events is the browser's event stream: a poke when its board may have changed, a comment
// every 15 seconds (proxies close silent connections), and "bye" when the session no longer
// holds: revoked, expired, or its counsellor left the roster.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	sess, _ := auth.From(r.Context())
	o, ok := s.cfg.Desk.Operator(sess.Operator)
	flusher, canFlush := w.(http.Flusher)
	if !ok || !canFlush {
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each event at once
	sub := s.cfg.Hub.subscribe(o.ID, o.Supervisor)
	defer s.cfg.Hub.unsubscribe(sub)
	fmt.Fprint(w, ": hello\n\n")
	flusher.Flush()
	alive := time.NewTicker(s.cfg.Alive)
	defer alive.Stop()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case p := <-sub.pokes:
			fmt.Fprintf(w, "event: poke\ndata: {\"case\":%q,\"ring\":%t,\"urgent\":%t}\n\n", p.Case, p.Ring, p.Urgent)
		case <-keep.C:
			fmt.Fprint(w, ": keep\n\n")
		case <-alive.C:
			if _, known := s.cfg.Desk.Operator(o.ID); !known || !s.cfg.Auth.Alive(r.Context(), sess) {
				fmt.Fprint(w, "event: bye\ndata: {}\n\n")
				flusher.Flush()
				return
			}
			continue
		}
		flusher.Flush()
	}
}

// Phones is how the handoff desk reaches an operator who works at the desk only (roster.Desk):
// the desk shows their board, which handoff.Config.Poke tells to read again, so there is
// nothing to send. A desk cannot copy a person's photo or voice note: the person is asked to
// write instead, as when a copy fails on Telegram.
type Phones struct{}

var _ handoff.Phones = Phones{}

// Send does nothing: the board shows the case.
func (Phones) Send(context.Context, string, []bot.Reply) error { return nil }

// Copy refuses: Faros keeps no media, and the desk cannot show them.
func (Phones) Copy(context.Context, string, string, string, string) error {
	return errors.New("the desk in the browser cannot show media")
}

// Delete does nothing: nothing was sent.
func (Phones) Delete(context.Context, string, []string) error { return nil }
