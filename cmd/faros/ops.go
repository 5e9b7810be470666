package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// opsDoor answers /readyz on the ops listener, one line per part that is not ready
// ("redis: unreachable", "telegram: not connected: ..."), then "ready" when the instance can
// still serve: 503 only when Redis is unreachable or the instance is stopping. A channel that
// is down (Telegram) is said, not a reason for 503: a balancer that took the instance out for
// it would take the web chat down with Telegram.
type opsDoor struct {
	parts    []readyPart
	stopping atomic.Bool
}

// readyPart is one part of Faros that may not be ready: ready returns why not, or nil. Its
// error is printed: it must not hold a secret.
type readyPart struct {
	name    string
	ready   func(ctx context.Context) error
	channel bool // one channel among others: said, but the instance serves without it
}

// redisPart is ready when Redis answers. Meanwhile people are answered with the numbers; no
// conversation goes on.
func redisPart(rdb redis.UniversalClient) readyPart {
	return readyPart{name: "redis", ready: func(ctx context.Context) error {
		if err := rdb.Ping(ctx).Err(); err != nil {
			return errors.New("unreachable")
		}
		return nil
	}}
}

func (o *opsDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	var lines []string
	serves := !o.stopping.Load()
	for _, p := range o.parts {
		if err := p.ready(ctx); err != nil {
			lines = append(lines, p.name+": "+err.Error())
			serves = serves && p.channel
		}
	}
	if o.stopping.Load() {
		lines = append(lines, "faros: stopping")
	}
	if serves {
		lines = append(lines, "ready")
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// listen opens addr, the value of the variable env; an address in use names the variable to
// change.
func listen(env, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s: %s is in use (another Faros, or another program): choose another port", named(env), addr)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", named(env), err)
	}
	return ln, nil
}
