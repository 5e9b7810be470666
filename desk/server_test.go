package desk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// server is a desk for the operators maria (a supervisor) and nikos, at the desk only.
func server(t *testing.T, r *redistest.Redis) (*Server, *Hub) {
	t.Helper()
	ros, err := roster.Parse("roster.yaml", []byte("timezone: Europe/Athens\noperators:\n  - {id: maria, supervisor: true}\n  - {id: nikos}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	hub, phones := NewHub(r.Client, r.Prefix, nil), NewPhones(r.Client, r.Prefix, []byte("desk test secret"))
	desk, err := handoff.New(handoff.Config{Redis: r.Client, Prefix: r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return ros }, Operators: map[string]handoff.Phones{roster.Desk: phones},
		People: map[string]bot.Sender{}, Catalog: func() *locales.Catalog { return cat }, Poke: hub.Poke})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Redis: r.Client, Prefix: r.Prefix, Secret: []byte("a desk test secret of 32 bytes!!"),
		Origin: "http://localhost:8081", Known: func(id string) (string, bool) {
			o, ok := ros.Operator(id)
			return o.AliasIn("el"), ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Desk: desk, Auth: a, Hub: hub, Phones: phones, Catalog: func() *locales.Catalog { return cat }})
	if err != nil {
		t.Fatal(err)
	}
	return s, hub
}

// Every answer of the desk, signed in or not, found or not, carries the headers that keep the
// page to itself: no script but its own, no frame, nothing cached or sniffed, no referrer.
func TestDeskHeaders(t *testing.T) {
	s, _ := server(t, redistest.New(t))
	h := s.Handler()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", http.StatusSeeOther}, // signed out: to /signin
		{"GET", "/signin", http.StatusOK},
		{"GET", "/static/desk.js", http.StatusOK},
		{"GET", "/static/index.html", http.StatusMovedPermanently},
		{"GET", "/static/nothing.js", http.StatusNotFound},
		{"GET", "/api/board", http.StatusUnauthorized},
		{"GET", "/api/events", http.StatusUnauthorized},
		{"POST", "/api/cases/ABCDEFGH/write", http.StatusUnauthorized},
		{"GET", "/elsewhere", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader("{}")))
		if rec.Code != tt.status {
			t.Errorf("%s %s: status %d; want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s %s: %s is %q; want %q", tt.method, tt.path, k, got, v)
			}
		}
		if strings.HasPrefix(tt.path, "/api/") && !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s %s: %q; want a JSON error the page can show", tt.method, tt.path, rec.Body.String())
		}
	}
}

// A poke made on one instance reaches the browsers signed in on another: its operator's with
// the sound, a supervisor's silently, nobody else's; a poke for everyone reaches all.
func TestPokesCrossInstances(t *testing.T) {
	r := redistest.New(t)
	_, a := server(t, r)
	_, b := server(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	go b.Run(ctx)
	nikos, maria, other := b.subscribe("nikos", false), b.subscribe("maria", true), b.subscribe("eleni", false)
	defer b.unsubscribe(nikos)
	next := func(s *stream) (Poke, bool) {
		select {
		case p := <-s.pokes:
			return p, true
		case <-time.After(2 * time.Second):
			return Poke{}, false
		}
	}
	// The subscriptions start in the background: poke until the first arrives.
	var got Poke
	for range 40 {
		a.Poke("nikos", "ABCDEFGH", true, true)
		var ok bool
		if got, ok = next(nikos); ok {
			break
		}
	}
	if want := (Poke{Case: "ABCDEFGH", Ring: true, Urgent: true}); got != want {
		t.Fatalf("nikos got %+v; want %+v", got, want)
	}
	for len(nikos.pokes) > 0 { // the tries that arrived late
		<-nikos.pokes
	}
	for len(maria.pokes) > 0 {
		<-maria.pokes
	}
	for len(other.pokes) > 0 {
		<-other.pokes
	}
	a.Poke("nikos", "ABCDEFGH", true, true)
	if p, ok := next(maria); !ok || p.Ring || p.Urgent || p.Case != "ABCDEFGH" {
		t.Errorf("the supervisor got %+v, %v; want the poke, silent", p, ok)
	}
	if p, ok := next(nikos); !ok || !p.Ring {
		t.Errorf("nikos got %+v, %v; want the poke, ringing", p, ok)
	}
	a.Poke("", "QRSTUVWX", false, false)
	for name, s := range map[string]*stream{"nikos": nikos, "maria": maria, "eleni": other} {
		if p, ok := next(s); !ok || p.Case != "QRSTUVWX" {
			t.Errorf("%s got %+v, %v; want the poke for everyone", name, p, ok)
		}
	}
	if len(other.pokes) > 0 {
		t.Errorf("eleni got a poke meant for nikos")
	}
}
