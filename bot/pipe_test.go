package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/redistest"
)

// trips counts what a client sends Redis for a pipe (single commands, and pipelines with
// their sizes; not the client's own, such as a new connection's greeting), and holds the
// first single command until released: calls made meanwhile queue in the pipe.
type trips struct {
	mu            sync.Mutex
	singles       int
	pipelines     []int
	held, release chan struct{}
}

func (h *trips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !piped(cmd) {
			return next(ctx, cmd)
		}
		h.mu.Lock()
		h.singles++
		first := h.singles == 1
		h.mu.Unlock()
		if first {
			close(h.held)
			<-h.release
		}
		return next(ctx, cmd)
	}
}

func (h *trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, piped) {
			return next(ctx, cmds)
		}
		h.mu.Lock()
		h.pipelines = append(h.pipelines, len(cmds))
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// piped reports whether cmd is one of those the tests send through a pipe (or a script's
// load on the way).
func piped(cmd redis.Cmder) bool {
	return slices.Contains([]string{"set", "evalsha", "eval", "script"}, cmd.Name())
}

// queueBehind runs lead, holds it at Redis' door, starts every call of calls, waits until the
// n that do not return at once wait in p, then lets lead through and waits for all.
func queueBehind(t *testing.T, p *pipe, h *trips, lead func(), n int, calls ...func()) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(lead)
	<-h.held
	for _, call := range calls {
		wg.Go(call)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		queued := len(p.waiting)
		p.mu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued; want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(h.release)
	wg.Wait()
}

// TestPipeSharesOneTripAndKeepsEachAnswer: calls made while one is in flight go together in
// one pipeline, and each gets its own answer: a value, a script's result (one Redis had never
// seen, loaded on the way), a script's error, a caller's own deadline.
func TestPipeSharesOneTripAndKeepsEachAnswer(t *testing.T) {
	r := redistest.New(t)
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	r.Client.AddHook(h)
	p := &pipe{rdb: r.Client}
	ctx := context.Background()
	key := func(i int) string { return fmt.Sprintf("%s:{pipe%d}:k", r.Prefix, i) }
	double := redis.NewScript(fmt.Sprintf(`return tonumber(ARGV[1]) * 2 -- %d`, time.Now().UnixNano())) // never loaded
	failing := redis.NewScript(`return redis.error_reply('no such thing')`)

	const n = 20
	sets := make([]error, n)
	var doubled *redis.Cmd
	var failed *redis.Cmd
	var cancelled error
	calls := []func(){
		func() { doubled = p.script(ctx, double, []string{key(100)}, 21) },
		func() { failed = p.script(ctx, failing, []string{key(101)}) },
		func() {
			cctx, cancel := context.WithCancel(ctx)
			cancel() // its caller gave up: it does not wait for the batch
			cancelled = p.do(cctx, redis.NewStatusCmd(cctx, "set", key(102), "late", "ex", 60))
		},
	}
	for i := range n {
		calls = append(calls, func() {
			sets[i] = p.do(ctx, redis.NewStatusCmd(ctx, "set", key(i), fmt.Sprint("value ", i), "ex", 60))
		})
	}
	lead := func() {
		if err := p.do(ctx, redis.NewStatusCmd(ctx, "set", key(99), "lead", "ex", 60)); err != nil {
			t.Errorf("the call that led: %v", err)
		}
	}
	queueBehind(t, p, h, lead, n+3, calls...)

	for i, err := range sets {
		if got := r.Client.Get(ctx, key(i)).Val(); err != nil || got != fmt.Sprint("value ", i) {
			t.Errorf("call %d: %v, and Redis holds %q", i, err, got)
		}
	}
	if v, err := doubled.Int(); err != nil || v != 42 {
		t.Errorf("a script Redis did not know: %v, %v; want 42", v, err)
	}
	if err := failed.Err(); err == nil || err.Error() != "no such thing" {
		t.Errorf("a failing script: %v; want its own error", err)
	}
	if !errors.Is(cancelled, context.Canceled) {
		t.Errorf("a call whose caller gave up: %v; want its context's error", cancelled)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The lead alone, then everyone else in one pipeline; and each script Redis did not know
	// once more, outside (EVALSHA, then EVAL: at most five singles in all with the lead).
	if len(h.pipelines) != 1 || h.pipelines[0] != n+3 || h.singles > 5 {
		t.Errorf("sent %d single commands and pipelines of %v; want the lead alone and one pipeline of %d", h.singles, h.pipelines, n+3)
	}
}

// TestPipeAloneGoesAtOnce: a call with none in flight is sent at once, alone, and a pipe
// left idle sends nothing more.
func TestPipeAloneGoesAtOnce(t *testing.T) {
	r := redistest.New(t)
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	close(h.release)
	r.Client.AddHook(h)
	p := &pipe{rdb: r.Client}
	ctx := context.Background()
	for i := range 3 {
		cmd := redis.NewStatusCmd(ctx, "set", r.Prefix+":alone", i, "ex", 60)
		if err := p.do(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.singles != 3 || len(h.pipelines) != 0 || p.busy {
		t.Errorf("three calls one after another: %d single commands, pipelines %v, busy %v; want 3, none, false", h.singles, h.pipelines, p.busy)
	}
}
