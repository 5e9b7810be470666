package main

import (
	"cmp"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// guard protects every route: a panic in a handler is recovered, counted and logged without
// the request's content, and the client gets a 500; the service keeps serving. Limits live
// where a request is known to be real (bot.Handle, after each channel's authentication), so
// that junk sent to any path costs nothing but its answer.
func guard(next http.Handler, reg prometheus.Registerer, log *slog.Logger) http.Handler {
	panics := prometheus.NewCounter(prometheus.CounterOpts{Name: "faros_http_panics_total",
		Help: "Panics recovered in HTTP handlers."})
	reg.MustRegister(panics)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				panics.Inc()
				// The route's pattern, never the path: a path can be long or hold an id.
				log.Error("http: recovered from a panic", "method", r.Method, "route", cmp.Or(r.Pattern, "unknown"))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
