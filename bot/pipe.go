package bot

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// pipe sends the Redis commands of concurrent calls together. A call made while none is in
// flight goes at once, alone; calls made while one is in flight wait for it and then go
// together, in one pipeline: one round trip, one read and one write on each side, however
// many conversations they are for. Under load this is most of Redis' cost per message, and
// much of Faros' own.
//
// Only single commands that never block go through a pipe (a read, a script): a blocking
// one would hold every call queued behind it. Each command still runs on its own, atomic as
// before; only its trip is shared.
type pipe struct {
	rdb     redis.UniversalClient
	mu      sync.Mutex
	waiting []queued
	busy    bool // a batch is in flight: new calls wait for the next
}

type queued struct {
	cmd  redis.Cmder
	done chan struct{}
}

// do runs cmd, in a batch with others if others are in flight, and returns its error.
func (p *pipe) do(ctx context.Context, cmd redis.Cmder) error {
	q := queued{cmd: cmd, done: make(chan struct{})}
	p.mu.Lock()
	p.waiting = append(p.waiting, q)
	lead := !p.busy
	p.busy = true
	p.mu.Unlock()
	if lead {
		p.flush(ctx) // q is in this batch: done now
		return cmd.Err()
	}
	select {
	case <-q.done:
		return cmd.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush sends what waits, in one pipeline, and hands the calls that came meanwhile to a
// goroutine of their own, so that the call that led goes back to its work.
func (p *pipe) flush(ctx context.Context) {
	p.mu.Lock()
	batch := p.waiting
	p.waiting = nil
	p.mu.Unlock()
	if len(batch) == 1 {
		_ = p.rdb.Process(ctx, batch[0].cmd)
	} else {
		pl := p.rdb.Pipeline()
		for _, q := range batch {
			_ = pl.Process(ctx, q.cmd)
		}
		// Without the callers' deadlines: one caller's must not fail the others. The client's
		// own timeouts bound it.
		_, _ = pl.Exec(context.WithoutCancel(ctx))
	}
	for _, q := range batch {
		close(q.done)
	}
	p.mu.Lock()
	if len(p.waiting) == 0 {
		p.busy = false
	} else {
		go p.flush(context.WithoutCancel(ctx))
	}
	p.mu.Unlock()
}

// script runs s on keys with args through the pipe, by its hash; a Redis that does not know
// it yet (it restarted) gets it whole, once, outside the pipe.
func (p *pipe) script(ctx context.Context, s *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", s.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...)
	if err := p.do(ctx, cmd); redis.HasErrorPrefix(err, "NOSCRIPT") {
		return s.Run(ctx, p.rdb, keys, args...)
	}
	return cmd
}
