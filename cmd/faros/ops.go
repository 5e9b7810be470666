package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// opsDoor answers /readyz on the ops listener: 200 when every part is ready, else 503 with
// one line per part, so that the orchestrator's log says which is not.
type opsDoor struct {
	rdb      redis.UniversalClient
	stopping atomic.Bool
}

func (o *opsDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	redisState, ready := "ok", true
	if err := o.rdb.Ping(ctx).Err(); err != nil {
		// People are answered with the numbers meanwhile; no conversation goes on.
		redisState, ready = "unreachable", false
	}
	if o.stopping.Load() {
		ready = false
	}
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, "redis: %s\n", redisState)
	if o.stopping.Load() {
		fmt.Fprintln(w, "faros: stopping")
	}
	if ready {
		fmt.Fprintln(w, "ready")
	}
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
