package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// holdDuty holds the pipelines that read the operators' /duty until release, telling entered
// when one arrives.
type holdDuty struct {
	entered chan struct{}
	release chan struct{}
}

func (h *holdDuty) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *holdDuty) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *holdDuty) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if key, ok := c.Args()[len(c.Args())-1].(string); ok && strings.Contains(key, ":duty:") {
				h.entered <- struct{}{}
				select {
				case <-h.release:
				case <-ctx.Done():
				}
				return next(ctx, cmds)
			}
		}
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*holdDuty)(nil)

// While one message waits for Redis to count who is on duty, the others do not wait behind it:
// they take the count of a few seconds ago. Before, OnDuty read Redis holding the desk's
// lock, so every message of the process waited for that round trip.
func TestOnDutyDoesNotWaitBehindAnotherRead(t *testing.T) {
	f := setup(t)
	if got := f.desk.OnDuty(context.Background(), "fr"); got != 1 {
		t.Fatalf("OnDuty(fr) = %d; want 1 (op2 speaks French)", got)
	}
	hold := &holdDuty{entered: make(chan struct{}, 1), release: make(chan struct{})}
	f.r.Client.AddHook(hold)
	f.now = f.now.Add(6 * time.Second) // the count is old: the next OnDuty reads Redis again

	first := make(chan int, 1)
	go func() { first <- f.desk.OnDuty(context.Background(), "el") }()
	<-hold.entered
	second := make(chan int, 1)
	go func() { second <- f.desk.OnDuty(context.Background(), "fr") }()
	waited := false
	select {
	case got := <-second:
		if got != 1 {
			t.Errorf("OnDuty(fr) while another reads = %d; want 1", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("OnDuty waited for another caller's Redis round trip")
		waited = true
	}
	close(hold.release)
	if got := <-first; got != 2 {
		t.Errorf("OnDuty(el) = %d; want 2", got)
	}
	if waited {
		<-second
	}
}
