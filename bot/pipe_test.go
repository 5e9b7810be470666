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

// cluster skips a test of batches on a Redis Cluster, whose calls go alone.
func cluster(t *testing.T, r *redistest.Redis) {
	if r.Cluster {
		t.Skip("on a Redis Cluster a pipe's calls go alone")
	}
}

// queueBehind runs lead, holds it at Redis' door, starts every call of calls, waits until the
// n that do not return at once wait in b, then lets lead through and waits for all.
func queueBehind[T any](t *testing.T, b *batcher[T], h *trips, lead func(), n int, calls ...func()) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(lead)
	<-h.held
	for _, call := range calls {
		wg.Go(call)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		queued := len(b.waiting)
		b.mu.Unlock()
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
	cluster(t, r)
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	r.Client.AddHook(h)
	p := newPipe(r.Client)
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
			cancel() // its caller gave up while it waited: it returns, and its command is not sent
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
	queueBehind(t, &p.calls, h, lead, n+2, calls...)

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
	if !errors.Is(cancelled, context.Canceled) || r.Client.Exists(ctx, key(102)).Val() != 0 {
		t.Errorf("a call whose caller gave up while it waited: %v, and sent %v; want its context's error, not sent", cancelled, r.Client.Exists(ctx, key(102)).Val() != 0)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The lead alone, then everyone else in one pipeline; and each script Redis did not know
	// once more, outside (EVALSHA, then EVAL: at most five singles in all with the lead).
	if len(h.pipelines) != 1 || h.pipelines[0] != n+2 || h.singles > 5 {
		t.Errorf("sent %d single commands and pipelines of %v; want the lead alone and one pipeline of %d", h.singles, h.pipelines, n+2)
	}
}

// TestPipeAloneGoesAtOnce: a call with none in flight is sent at once, alone, and a pipe
// left idle sends nothing more.
func TestPipeAloneGoesAtOnce(t *testing.T) {
	r := redistest.New(t)
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	close(h.release)
	r.Client.AddHook(h)
	p := newPipe(r.Client)
	ctx := context.Background()
	for i := range 3 {
		cmd := redis.NewStatusCmd(ctx, "set", r.Prefix+":alone", i, "ex", 60)
		if err := p.do(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.singles != 3 || len(h.pipelines) != 0 || p.calls.busy {
		t.Errorf("three calls one after another: %d single commands, pipelines %v, busy %v; want 3, none, false", h.singles, h.pipelines, p.calls.busy)
	}
}

// TestACommitSentAgainSavesOnce: the client sends a whole batch again when a reply in it came
// too late (here a slow script after the commit); the commit, already saved, says so, rather
// than that the conversation moved (the message would be stepped again, found handled, and
// its answer never sent).
func TestACommitSentAgainSavesOnce(t *testing.T) {
	r := redistest.New(t)
	cluster(t, r)
	if !r.Real {
		t.Skip("needs a real Redis: a script that takes longer than the client waits")
	}
	opt, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	opt.ReadTimeout = 300 * time.Millisecond
	c := redis.NewClient(opt)
	defer c.Close()
	s := &store{rdb: c, pipe: newPipe(c), prefix: r.Prefix, idle: time.Hour, lockTTL: 10 * time.Second, lockWait: time.Second}
	ctx := context.Background()
	bg, err := s.begin(ctx, "p", "m1", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(h)
	slow := `if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 60) then
  local t = redis.call('TIME') local start = t[1] * 1000000 + t[2]
  repeat local n = redis.call('TIME') until n[1] * 1000000 + n[2] - start > 600000
end
return 1`
	var saved error
	lead := func() { _ = s.pipe.do(ctx, redis.NewStatusCmd(ctx, "set", r.Prefix+":lead", "x", "ex", 60)) }
	queueBehind(t, &s.pipe.calls, h, lead, 2,
		func() { saved = s.commit(ctx, "p", bg, save{data: []byte(`"saved"`), ttl: time.Hour, msgID: "m1"}) },
		func() {
			time.Sleep(20 * time.Millisecond) // behind the commit
			_ = s.pipe.do(ctx, redis.NewCmd(ctx, "eval", slow, 1, r.Prefix+":{p:p}:slow"))
		})
	if saved != nil {
		t.Errorf("a commit sent twice in a batch sent again: %v; want it saved", saved)
	}
	if got := c.HGet(ctx, s.key("p", "conv"), "s").Val(); got != `"saved"` {
		t.Errorf("Redis holds %q", got)
	}
}

// panicky is a hook with a bug: it panics on ECHO.
type panicky struct{}

func (panicky) DialHook(next redis.DialHook) redis.DialHook { return next }
func (panicky) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "echo" {
			panic("a bug in a hook")
		}
		return next(ctx, cmd)
	}
}
func (panicky) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestAPanicInThePipeFailsOnlyItsCall: a call whose sending panics gets an error, and the
// pipe goes on serving the next.
func TestAPanicInThePipeFailsOnlyItsCall(t *testing.T) {
	r := redistest.New(t)
	cluster(t, r)
	r.Client.AddHook(panicky{})
	p := newPipe(r.Client)
	ctx := context.Background()
	if err := p.do(ctx, redis.NewStringCmd(ctx, "echo", "x")); err == nil {
		t.Error("a call whose sending panicked: no error")
	}
	done := make(chan error, 1)
	go func() { done <- p.do(ctx, redis.NewStatusCmd(ctx, "set", r.Prefix+":after", "1", "ex", 60)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the next call: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pipe is stuck after a panic")
	}
}
