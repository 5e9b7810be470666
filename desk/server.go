// Package desk serves the counsellors' desk in the browser: the queue of cases, each case's
// thread with its packet, a composer bound to its case, canned replies, live alerts and
// supervision, on its own listener, behind package auth's sign-in.
package desk

// The server: configuration, the routes, the security headers every answer carries, and the
// event stream. The JSON API is api.go's; pokes cross instances in events.go.

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
)

//go:embed static
var static embed.FS

// Config configures a Server; all but Logger, Alive and Secure are required.
type Config struct {
	Desk    *handoff.Desk
	Auth    *auth.Auth
	Hub     *Hub
	Phones  *Phones                 // the handoff desk's way to counsellors of the desk only (roster.Desk)
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
	if cfg.Desk == nil || cfg.Auth == nil || cfg.Hub == nil || cfg.Phones == nil || cfg.Catalog == nil {
		return nil, errors.New("desk: Desk, Auth, Hub, Phones and Catalog are required")
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
	api("POST /api/alive", s.alive)
	api("GET /api/notices", s.notices)
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
	if !ok {
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each event at once
	rc := http.NewResponseController(w)
	// write sends one event, or ends the stream of a browser that stopped reading.
	write := func(event string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(w, event); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	sub := s.cfg.Hub.subscribe(o.ID, o.Supervisor)
	defer s.cfg.Hub.unsubscribe(sub)
	// A counsellor of the desk only is reachable while a page of theirs is open.
	// When they arrive, who is on call is counted again, and every board read again: theirs
	// shows the cases waiting, their colleagues' can transfer to them.
	here := func() {
		if o.Address.Channel != roster.Desk {
			return
		}
		arrived, err := s.cfg.Phones.here(r.Context(), o.ID)
		if err != nil {
			s.log.Warn("desk: presence not marked", "operator", o.ID, "err", err)
		}
		if arrived {
			s.cfg.Desk.Recount()
			s.cfg.Hub.Poke("", "", false, false)
		}
	}
	here()
	alive := time.NewTicker(s.cfg.Alive)
	defer alive.Stop()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for ok := write(": hello\n\n"); ok; {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case p := <-sub.pokes:
			ok = write(fmt.Sprintf("event: poke\ndata: {\"case\":%q,\"ring\":%t,\"urgent\":%t}\n\n", p.Case, p.Ring, p.Urgent))
		case <-keep.C:
			ok = write(": keep\n\n")
		case <-alive.C:
			_, known := s.cfg.Desk.Operator(o.ID)
			holds, err := s.cfg.Auth.Check(r.Context(), sess)
			switch {
			case known && err != nil:
				return // Redis cannot tell now: the page reconnects, its drafts kept
			case !known || !holds:
				write("event: bye\ndata: {}\n\n")
				return
			}
			here()
		}
	}
}
