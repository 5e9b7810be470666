package handoff

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
)

// noPhones reaches nobody; the background work of these tests is their own.
type noPhones struct{}

func (noPhones) Send(context.Context, string, []bot.Reply) error            { return nil }
func (noPhones) Copy(context.Context, string, string, string, string) error { return nil }
func (noPhones) Delete(context.Context, string, []string) error             { return nil }

func bareDesk(t *testing.T) *Desk {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	d, err := New(Config{Redis: rdb, Secret: []byte("secret"), Roster: func() *roster.Roster { return nil },
		Operators: map[string]Phones{"telegram": noPhones{}}, Catalog: func() *locales.Catalog { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Wait also waits for work started by work it waits for.
func TestWaitWaitsForWorkStartedMeanwhile(t *testing.T) {
	d := bareDesk(t)
	start, finish := make(chan struct{}), make(chan struct{})
	var second atomic.Bool
	d.later(func(context.Context) {
		<-start
		d.later(func(context.Context) { <-finish; second.Store(true) })
	})
	waited := make(chan struct{})
	go func() { d.Wait(); close(waited) }()
	close(start)
	close(finish)
	<-waited
	if !second.Load() {
		t.Error("Wait returned before the work started meanwhile was done")
	}
}

// Drain waits for the work in flight; when its time runs out it cuts it off (its context
// ends) and waits for it to return. Nothing starts after.
func TestDrain(t *testing.T) {
	t.Run("in time", func(t *testing.T) {
		d := bareDesk(t)
		release := make(chan struct{})
		var cut atomic.Bool
		d.later(func(ctx context.Context) { <-release; cut.Store(ctx.Err() != nil) })
		drained := make(chan struct{})
		go func() { d.Drain(context.Background()); close(drained) }()
		close(release)
		<-drained
		if cut.Load() {
			t.Error("the work's context ended though Drain had time")
		}
	})
	t.Run("out of time", func(t *testing.T) {
		d := bareDesk(t)
		entered := make(chan struct{})
		var cut atomic.Bool
		d.later(func(ctx context.Context) { close(entered); <-ctx.Done(); cut.Store(true) })
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d.Drain(ctx)
		if !cut.Load() {
			t.Error("Drain returned before the work it cut off")
		}
		// Asked for after Drain, the work is done at once, not in the background, nor lost.
		var late atomic.Bool
		d.later(func(context.Context) { late.Store(true) })
		if !late.Load() {
			t.Error("work asked for after Drain was not done before later returned")
		}
	})
}
