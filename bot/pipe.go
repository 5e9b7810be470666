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
	rdb   redis.UniversalClient
	calls batcher[redis.Cmder]
}

func newPipe(rdb redis.UniversalClient) *pipe {
	p := &pipe{rdb: rdb}
	p.calls.run = p.send
	return p
}

// batchTimeout is how long a batch may take, with the client's tries again: about what a
// caller waited for a command of its own before (the client's read timeout).
const batchTimeout = 3 * time.Second

// do runs cmd, in a batch with others if others are in flight, and returns its error. A
// caller whose ctx ends while cmd waits gets ctx's error, and cmd is not sent; once sent, its
// answer is waited for (batchTimeout bounds it): it may have been done.
func (p *pipe) do(ctx context.Context, cmd redis.Cmder) error {
	if _, cluster := p.rdb.(*redis.ClusterClient); cluster {
		return p.rdb.Process(ctx, cmd)
	}
	if err := p.calls.do(ctx, cmd); err != nil {
		cmd.SetErr(err)
		return err
	}
	return cmd.Err()
}

// send sends a batch: a call alone under its caller's ctx, several in one pipeline. Each
// command keeps its own answer or error.
func (p *pipe) send(ctx context.Context, batch []*call[redis.Cmder]) {
	if len(batch) == 1 {
		_ = p.rdb.Process(ctx, batch[0].v)
		return
	}
	ctx, cancel := batchContext(ctx, len(batch))
	defer cancel()
	pl := p.rdb.Pipeline()
	for _, c := range batch {
		_ = pl.Process(ctx, c.v)
	}
	_, _ = pl.Exec(ctx)
}

// batchContext is the context of a batch of n calls: the caller's own when it is alone, else
// none of the callers' (one caller's deadline must not fail the others) but batchTimeout,
// which bounds the client's tries again as a caller's deadline did.
func batchContext(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	if n == 1 {
		return ctx, func() {}
	}
	return context.WithTimeout(context.Background(), batchTimeout)
}

// batcher runs the calls made while one batch is in flight together, as the next batch. A
// call made while none is in flight runs at once, alone. run does the work of a batch and
// sets each call's err; a call leaves the batcher when its batch is done.
type batcher[T any] struct {
	run     func(ctx context.Context, batch []*call[T])
	mu      sync.Mutex
	waiting []*call[T]
	busy    bool // a batch is in flight: new calls wait for the next
}

type call[T any] struct {
	v    T
	err  error
	done chan struct{}
}

// do runs v, in a batch with the calls that wait with it, and returns its call's err. A caller
// whose ctx ends while v waits gets ctx's error, and v is not run; once v's batch runs, it
// is waited for.
func (b *batcher[T]) do(ctx context.Context, v T) error {
	c := &call[T]{v: v, done: make(chan struct{})}
	b.mu.Lock()
	b.waiting = append(b.waiting, c)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if lead {
		b.flush(ctx) // c is in this batch: done now
		return c.err
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	i := slices.Index(b.waiting, c)
	if i >= 0 {
		b.waiting = slices.Delete(b.waiting, i, i+1)
	}
	b.mu.Unlock()
	if i < 0 { // on its way already
		<-c.done
		return c.err
	}
	return ctx.Err()
}

// flush runs what waits, as one batch, and hands the calls that came meanwhile to a
// goroutine of their own, so that the call that led goes back to its work.
func (b *batcher[T]) flush(ctx context.Context) {
	b.mu.Lock()
	batch := b.waiting
	b.waiting = nil
	b.mu.Unlock()
	defer func() {
		if r := recover(); r != nil { // a hook's panic: every call gets an error, none waits for ever
			for _, c := range batch {
				c.err = fmt.Errorf("redis batch: %v", r)
			}
		}
		for _, c := range batch {
			close(c.done)
		}
		b.mu.Lock()
		if len(b.waiting) == 0 {
			b.busy = false
		} else {
			go b.flush(context.Background()) // not the leader's: its values and deadline are its own
		}
		b.mu.Unlock()
	}()
	if len(batch) > 0 { // none when those who waited gave up
		b.run(ctx, batch)
	}
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
