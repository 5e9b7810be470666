package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/internal/redistest"
)

// TestOutbox: messages stay with the instance that put them while it renews its lease, go to
// whoever takes them once it lapses, in the order put, and leave Redis when done. Redis holds
// them sealed and with a TTL; an outbox with another secret cannot read them and drops them.
func TestOutbox(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	newOutbox := func(secret string, lease time.Duration) *bot.Outbox {
		o := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte(secret))
		o.Lease = lease
		return o
	}
	// Leases far apart from the sleeps between the steps, so that a busy machine (CI runs
	// packages side by side) does not make a lease lapse where the test wants it held.
	mine, theirs := newOutbox("secret", 300*time.Millisecond), newOutbox("secret", time.Minute)
	msgs := [][]byte{[]byte(`{"c":"4711","p":{"text":"first"}}`), []byte(`{"c":"4711","p":{"text":"second"}}`), []byte(`third`)}
	ids, err := mine.Put(ctx, "4711", msgs)
	if err != nil || len(ids) != 3 {
		t.Fatalf("Put: %v, %v", ids, err)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if ttl := r.Client.TTL(ctx, k).Val(); ttl <= 0 || ttl > bot.OutboxMaxAge {
			t.Errorf("%s: TTL %v; want at most %v", k, ttl, bot.OutboxMaxAge)
		}
		if v := r.Client.HGetAll(ctx, k).Val(); strings.Contains(strings.Join(values(v), " "), "4711") {
			t.Errorf("%s holds the chat id in clear", k)
		}
	}

	// Leased: nobody takes them, however long the holder renews.
	for range 3 {
		time.Sleep(60 * time.Millisecond)
		if lost, err := mine.Renew(ctx, ids...); err != nil || len(lost) != 0 {
			t.Fatalf("Renew: lost %v, %v; want none lost", lost, err)
		}
		if taken, err := theirs.Take(ctx, 10); err != nil || len(taken) != 0 {
			t.Fatalf("a renewed lease was taken over: %d, %v", len(taken), err)
		}
	}
	if err := mine.Done(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	// The holder stops renewing: after the lease the others take the two left, in order, once.
	time.Sleep(350 * time.Millisecond)
	taken, err := theirs.Take(ctx, 10)
	if err != nil || len(taken) != 2 || string(taken[0].Message) != string(msgs[0]) || string(taken[1].Message) != string(msgs[1]) {
		t.Fatalf("Take after the lease lapsed: %q, %v; want the first two messages in order", taken, err)
	}
	if again, _ := mine.Take(ctx, 10); len(again) != 0 {
		t.Errorf("a message taken over was taken again: %q", again)
	}
	// The first holder comes back (its process or Redis had stopped): its Renew says it lost
	// the two, and does not take them back.
	if lost, err := mine.Renew(ctx, ids[:2]...); err != nil || strings.Join(lost, " ") != ids[0]+" "+ids[1] {
		t.Errorf("Renew after the take-over: lost %v, %v; want both", lost, err)
	}
	if lost, err := theirs.Renew(ctx, taken[0].ID, taken[1].ID); err != nil || len(lost) != 0 {
		t.Errorf("the new holder's Renew: lost %v, %v; want none", lost, err)
	}
	// Renew does not bring back a message that is done.
	if err := theirs.Done(ctx, taken[0].ID, taken[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := mine.Renew(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 0 {
		t.Errorf("after every message was done, Redis holds %v", keys)
	}

	// Sealed with another secret: unreadable, dropped.
	if _, err := newOutbox("another secret", 100*time.Millisecond).Put(ctx, "4711", msgs[:1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if taken, err := mine.Take(ctx, 10); err != nil || len(taken) != 0 {
		t.Errorf("a message sealed with another secret was taken: %q, %v", taken, err)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 0 {
		t.Errorf("the unreadable message was kept: %v", keys)
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestOutboxWipe: once a chat is wiped, nobody takes over the messages put for it before; the
// instances learn of the wipe from WipedSince, and the chat's later messages go as usual.
func TestOutboxWipe(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	o := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("secret"))
	o.Lease = 50 * time.Millisecond
	before, err := o.Put(ctx, "4711", [][]byte{[]byte("before the wipe")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Put(ctx, "4712", [][]byte{[]byte("another chat")}); err != nil {
		t.Fatal(err)
	}
	at, err := o.Wipe(ctx, "4711")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := o.Put(ctx, "4711", [][]byte{[]byte("after the wipe")})
	if !bot.Before(before[0], at) || bot.Before(after[0], at) {
		t.Errorf("Before: %v for the message put before the wipe, %v after; want true, false", bot.Before(before[0], at), bot.Before(after[0], at))
	}
	wiped, cursor, err := o.WipedSince(ctx, 0)
	if err != nil || len(wiped) != 1 || wiped[o.Tag("4711")] != at {
		t.Errorf("WipedSince(0) = %v, %v; want the chat's tag at %d", wiped, err, at)
	}
	if again, _, _ := o.WipedSince(ctx, cursor); len(again) != 0 {
		t.Errorf("WipedSince(cursor) = %v; want nothing new", again)
	}
	time.Sleep(100 * time.Millisecond)
	taken, err := o.Take(ctx, 10)
	var got []string
	for _, p := range taken {
		got = append(got, string(p.Message))
	}
	if err != nil || strings.Join(got, ", ") != "another chat, after the wipe" {
		t.Errorf("Take after the wipe: %q, %v; want the other chat's and the later message", got, err)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if ttl := r.Client.TTL(ctx, k).Val(); ttl <= 0 || ttl > bot.OutboxMaxAge {
			t.Errorf("%s: TTL %v; want at most %v", k, ttl, bot.OutboxMaxAge)
		}
	}
}
