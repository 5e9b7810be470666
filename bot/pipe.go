package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

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
// before; only its trip is shared. The client may send a batch again after a timeout, as it
// does a single command: what goes through a pipe must bear running twice (commit knows its
// own save; a reply put twice in the outbox is sent twice, as after an instance's death).
//
// On a Redis Cluster calls go alone: a batch waits for every node, and one node down would
// hold the conversations of the others.
type pipe struct {
	rdb     redis.UniversalClient
	mu      sync.Mutex
	waiting []*queued
	busy    bool // a batch is in flight: new calls wait for the next
}

// batchTimeout is how long a batch may take, with the client's tries again: about what a
// caller waited for a command of its own before (the client's read timeout).
const batchTimeout = 3 * time.Second

type queued struct {
	cmd  redis.Cmder
	done chan struct{}
}

// do runs cmd, in a batch with others if others are in flight, and returns its error. A
// caller whose ctx ends while cmd waits gets ctx's error, and cmd is not sent; once sent, its
// answer is waited for (batchTimeout bounds it): it may have been done.
func (p *pipe) do(ctx context.Context, cmd redis.Cmder) error {
	if _, cluster := p.rdb.(*redis.ClusterClient); cluster {
		return p.rdb.Process(ctx, cmd)
	}
	q := &queued{cmd: cmd, done: make(chan struct{})}
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
	}
	p.mu.Lock()
	i := slices.Index(p.waiting, q)
	if i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
	}
	p.mu.Unlock()
	if i < 0 { // on its way already
		<-q.done
		return cmd.Err()
	}
	cmd.SetErr(ctx.Err())
	return ctx.Err()
}

// flush sends what waits, in one pipeline, and hands the calls that came meanwhile to a
// goroutine of their own, so that the call that led goes back to its work.
func (p *pipe) flush(ctx context.Context) {
	p.mu.Lock()
	batch := p.waiting
	p.waiting = nil
	p.mu.Unlock()
	defer func() {
		if r := recover(); r != nil { // a hook's panic: every call gets an error, none waits for ever
			for _, q := range batch {
				q.cmd.SetErr(fmt.Errorf("redis pipe: %v", r))
			}
		}
		for _, q := range batch {
			close(q.done)
		}
		p.mu.Lock()
		if len(p.waiting) == 0 {
			p.busy = false
		} else {
			go p.flush(context.Background()) // not the leader's: its values and deadline are its own
		}
		p.mu.Unlock()
	}()
	switch len(batch) {
	case 0: // those who waited gave up
		return
	case 1:
		_ = p.rdb.Process(ctx, batch[0].cmd)
		return
	}
	pl := p.rdb.Pipeline()
	for _, q := range batch {
		_ = pl.Process(ctx, q.cmd)
	}
	// Not under any caller's deadline (one caller's must not fail the others) but under
	// batchTimeout, which bounds the client's tries again as a caller's deadline did.
	bctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	_, _ = pl.Exec(bctx)
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
