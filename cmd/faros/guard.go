package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// guard protects every route: a panic in a handler is recovered, counted and logged without
// the request's content, and the client gets a 500 (the service keeps serving); messages
// beyond perSecond over all conversations get 503 with Retry-After, so that a flood cannot
// starve Redis or the people already talking.
func guard(next http.Handler, perSecond int, reg prometheus.Registerer, log *slog.Logger) http.Handler {
	panics := prometheus.NewCounter(prometheus.CounterOpts{Name: "faros_http_panics_total",
		Help: "Panics recovered in HTTP handlers."})
	refused := prometheus.NewCounter(prometheus.CounterOpts{Name: "faros_intake_refused_total",
		Help: "Messages refused with 503 because the intake limit was reached."})
	reg.MustRegister(panics, refused)
	limit := rate.NewLimiter(rate.Limit(perSecond), perSecond)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				panics.Inc()
				log.Error("http: recovered from a panic", "method", r.Method, "path", r.URL.Path)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		if r.Method == http.MethodPost && isMessage(r.URL.Path) && !limit.Allow() {
			refused.Inc()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy, try again in a second", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isMessage tells the routes that carry people's messages (Telegram's is any other POST).
func isMessage(path string) bool {
	return path == "/api/v1/messages" || path == "/chat/messages" || !strings.HasPrefix(path, "/chat/")
}
