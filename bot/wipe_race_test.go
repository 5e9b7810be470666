package bot_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/internal/redistest"
)

// pausingDesk holds the first OnDuty after armed until released: an instance paused between
// reading a conversation and saving it.
type pausingDesk struct {
	desk
	armed            bool
	entered, release chan struct{}
	once             sync.Once
}

func (d *pausingDesk) OnDuty(context.Context, string) int {
	if d.armed {
		d.once.Do(func() { close(d.entered); <-d.release })
	}
	return 1
}

// TestAMessageBeforeAWipeIsNotAnsweredAfterIt: the person types something, then /wipe, and the
// two reach two instances; the wipe is done while the first is read but not saved. The first
// is not answered (words back on the screen), leaves nothing in Redis, and its own message
// is deleted from the chat with the rest.
func TestAMessageBeforeAWipeIsNotAnsweredAfterIt(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	del := &deleter{}
	instance := func(d bot.Desk) *bot.Bot {
		b, err := bot.New(bot.Config{Redis: r.Client, Content: shipped(t), PseudonymKey: []byte("k"), Prefix: r.Prefix,
			Desk: d, Wipers: map[string]bot.Wiper{"telegram": del}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	paused := &pausingDesk{entered: make(chan struct{}), release: make(chan struct{})}
	a, b := instance(paused), instance(&desk{})
	msg := func(id, text string) bot.Message {
		return bot.Message{Channel: "telegram", ChatID: "77", ID: "u" + id, MsgID: id, Text: text}
	}
	if _, err := b.Handle(ctx, msg("1", "/start")); err != nil {
		t.Fatal(err)
	}
	paused.armed = true
	var replies []bot.Reply
	done := make(chan error)
	go func() {
		var err error
		replies, err = a.Handle(ctx, msg("2", "my boss took my passport"))
		done <- err
	}()
	<-paused.entered
	if _, err := b.Handle(ctx, msg("3", "/wipe")); err != nil {
		t.Fatal(err)
	}
	close(paused.release)
	if err := <-done; err != nil || len(replies) > 0 {
		t.Errorf("the message written before /wipe got %d replies after it (%v); want none", len(replies), err)
	}
	if err := r.WipedOnly(ctx); err != nil {
		t.Errorf("after the wipe: %v", err)
	}
	if !slices.Contains(del.ids, "1") || !slices.Contains(del.ids, "3") || !slices.Equal(del.deleted, []string{"77:2"}) {
		t.Errorf("the wipe deleted %v and then %v; want 1 and 3, then 2", del.ids, del.deleted)
	}
}
