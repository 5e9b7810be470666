package telegram_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/internal/redistest"
)

// leasedOutbox is an outbox whose messages another instance takes over after 300 ms.
func leasedOutbox(r *redistest.Redis) *bot.Outbox {
	o := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
	o.Lease = 300 * time.Millisecond
	return o
}

// TestOutboxHandsOverWhatAStoppedInstanceHadQueued: an instance whose Close runs out of time
// (or that dies) leaves its queued messages in the outbox; another instance sends them, in
// order, once their lease lapses. What was sent is forgotten.
func TestOutboxHandsOverWhatAStoppedInstanceHadQueued(t *testing.T) {
	r := redistest.New(t)
	outbox := func() *bot.Outbox { return leasedOutbox(r) }
	// The first instance sends "one" at once; its clock never moves, so the chat's next
	// messages wait for a second that never comes.
	a := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = newClock(false)
		cfg.Outbox = outbox()
	})
	if err := a.ch.Send(t.Context(), "42", []bot.Reply{{Text: "one"}}); err != nil {
		t.Fatal(err)
	}
	queued := a.send("42", bot.Reply{Text: "two"}, bot.Reply{Text: "three"})
	waitFor(t, "two messages queued", func() bool { return a.metric(t, "faros_telegram_queue_depth") == 2 })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.ch.Close(ctx); err == nil {
		t.Fatal("Close with no time left reported nothing left unsent")
	}
	if err := <-queued; err == nil {
		t.Error("Send of the queued messages reported success")
	}
	if n := keys(t, r); n != 2 {
		t.Fatalf("the outbox holds %d keys; want its two (items, leases)", n)
	}

	b := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Outbox = outbox()
	})
	b.srv.Wait("sendMessage", 2)
	var got []string
	for _, c := range b.srv.Calls("sendMessage") {
		got = append(got, c.Params["text"])
	}
	if !slices.Equal(got, []string{"two", "three"}) {
		t.Errorf("the second instance sent %q; want two, three", got)
	}
	if n := len(a.srv.Calls("sendMessage")); n != 1 {
		t.Errorf("the first instance sent %d messages; want one", n)
	}
	if v := b.metric(t, "faros_telegram_outbox_taken_over_total"); v != 2 {
		t.Errorf("taken over: %v; want 2", v)
	}
	waitFor(t, "the outbox emptied", func() bool { return keys(t, r) == 0 })
}

// TestOutboxLeavesNothingBehind: sent, wiped and refused messages are all forgotten, and a
// live instance's messages are not taken over by another, however long they wait.
func TestOutboxLeavesNothingBehind(t *testing.T) {
	r := redistest.New(t)
	o := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
	o.Lease = 150 * time.Millisecond
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = clock
		cfg.Outbox = o
	})
	if err := e.ch.Send(t.Context(), "42", []bot.Reply{{Text: "sent"}}); err != nil {
		t.Fatal(err)
	}
	wiped := e.send("42", bot.Reply{Text: "wiped"})
	waitFor(t, "one message queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 1 })

	// Three leases pass: the waiting message is renewed, not taken over.
	time.Sleep(3 * o.Lease)
	if taken, err := o.Take(t.Context(), 10); err != nil || len(taken) != 0 {
		t.Errorf("a live instance's message was taken over: %d, %v", len(taken), err)
	}
	if err := e.ch.Wipe(t.Context(), "42", nil); err != nil {
		t.Fatal(err)
	}
	if err := <-wiped; err == nil {
		t.Error("Send of a wiped message reported success")
	}
	clock.Advance(time.Second) // past the pause between any two sends
	e.srv.FailSend(43, 1, 400, "Bad Request: chat not found")
	if err := e.ch.Send(t.Context(), "43", []bot.Reply{{Text: "refused"}}); err == nil {
		t.Error("a refused message reported success")
	}
	// Only the record of the wipe remains, for the other instances.
	waitFor(t, "the outbox emptied", func() bool {
		ks, _ := r.Keys(context.Background())
		return len(ks) == 1 && strings.HasSuffix(ks[0], ":wiped")
	})
}

// TestOutboxWipeReachesEveryInstance: a wipe on one instance drops the chat's messages queued
// on another, and those of an instance that stopped are never taken over.
func TestOutboxWipeReachesEveryInstance(t *testing.T) {
	r := redistest.New(t)
	outbox := func(lease time.Duration) *bot.Outbox {
		o := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
		o.Lease = lease
		return o
	}
	// a holds "two" for chat 42, stopped "left" for chat 43, after sending one message each
	// (their clocks never move, so the next waits). stopped's lease is long enough for the
	// wipes below to come first.
	a := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(false); cfg.Outbox = outbox(300 * time.Millisecond) })
	if err := a.ch.Send(t.Context(), "42", []bot.Reply{{Text: "one"}}); err != nil {
		t.Fatal(err)
	}
	two := a.send("42", bot.Reply{Text: "two"})
	stopped := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(false); cfg.Outbox = outbox(2 * time.Second) })
	if err := stopped.ch.Send(t.Context(), "43", []bot.Reply{{Text: "first"}}); err != nil {
		t.Fatal(err)
	}
	left := stopped.send("43", bot.Reply{Text: "left"})
	waitFor(t, "both queued", func() bool {
		return a.metric(t, "faros_telegram_queue_depth") == 1 && stopped.metric(t, "faros_telegram_queue_depth") == 1
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = stopped.ch.Close(ctx) // "left" stays in the outbox
	<-left

	// b wipes chat 42; chat 43 is wiped where no instance here sees it (as by one that
	// stopped since).
	b := start(t, &handler{}, func(cfg *telegram.Config) { fast(cfg); cfg.Outbox = outbox(300 * time.Millisecond) })
	if err := b.ch.Wipe(t.Context(), "42", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox(time.Second).Wipe(t.Context(), "43"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-two:
		if !errors.Is(err, telegram.ErrWiped) {
			t.Errorf("the other instance's queued message: %v; want ErrWiped", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the other instance still holds the wiped chat's message")
	}
	time.Sleep(3 * time.Second) // "left" would have been taken over by now
	for name, e := range map[string]*env{"a": a, "b": b, "stopped": stopped} {
		for _, c := range e.srv.Calls("sendMessage") {
			if text := c.Params["text"]; text != "one" && text != "first" {
				t.Errorf("%s sent %q after the wipe", name, text)
			}
		}
	}
}

// TestOutboxLetsGoOfWhatAnotherTookOver: when Redis is away for longer than a lease, another
// instance takes the messages over once it is back; the first one, learning so when it renews,
// drops them instead of sending them too.
func TestOutboxLetsGoOfWhatAnotherTookOver(t *testing.T) {
	r := redistest.New(t)
	proxy, viaProxy := r.ProxyClient(t)
	mine := bot.NewOutbox(viaProxy, r.Prefix, "telegram", []byte("service secret"))
	mine.Lease = 300 * time.Millisecond
	a := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(false); cfg.Outbox = mine })
	if err := a.ch.Send(t.Context(), "42", []bot.Reply{{Text: "one"}}); err != nil {
		t.Fatal(err)
	}
	queued := a.send("42", bot.Reply{Text: "two"})
	waitFor(t, "one queued", func() bool { return a.metric(t, "faros_telegram_queue_depth") == 1 })
	waitFor(t, "the sent one forgotten", func() bool {
		return r.Client.HLen(t.Context(), r.Prefix+":{outbox:telegram}:items").Val() == 1
	})

	proxy.Cut()
	time.Sleep(2 * mine.Lease)
	theirs := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
	taken, err := theirs.Take(t.Context(), 10)
	if err != nil || len(taken) != 1 {
		t.Fatalf("Take while the first instance could not renew: %d, %v; want its message", len(taken), err)
	}
	proxy.Restore()
	select {
	case err := <-queued:
		if err != nil {
			t.Errorf("Send of the message taken over: %v; want nil, another instance sends it", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the first instance still holds the message another took over")
	}
	if d := a.metric(t, "faros_telegram_queue_depth"); d != 0 {
		t.Errorf("queue depth %v; want 0", d)
	}
}

func keys(t *testing.T, r *redistest.Redis) int {
	t.Helper()
	ks, err := r.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ks)
}

// TestOutboxKeepsWhatMakesAMessage: a message taken over is sent as it was queued: whether it
// rings, its tag, and whether it is a copy.
func TestOutboxKeepsWhatMakesAMessage(t *testing.T) {
	r := redistest.New(t)
	outbox := func() *bot.Outbox { return leasedOutbox(r) }
	// The first instance sends "one" at once and holds the rest: its clock never moves.
	a := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = newClock(false)
		cfg.Outbox = outbox()
	})
	if err := a.ch.Send(t.Context(), "7", []bot.Reply{{Text: "one"}}); err != nil {
		t.Fatal(err)
	}
	alert := a.send("7", bot.Reply{Text: "alert", Ring: true, Tag: "case-1"}, bot.Reply{Text: "quiet", Tag: "case-1"})
	waitFor(t, "two messages queued", func() bool { return a.metric(t, "faros_telegram_queue_depth") == 2 })
	copied := a.copyMsg("7", "42", "31", "case-2")
	waitFor(t, "the copy queued", func() bool { return a.metric(t, "faros_telegram_queue_depth") == 3 })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = a.ch.Close(ctx) // what is queued stays in the outbox
	<-alert
	<-copied

	log := &sentLog{}
	b := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Outbox = outbox()
		cfg.Sent = log.sent
	})
	b.srv.Wait("copyMessage", 1)
	var got []map[string]string
	for _, c := range b.srv.Calls("") {
		p := maps.Clone(c.Params)
		p["method"] = c.Method
		got = append(got, p)
	}
	want := []map[string]string{
		{"method": "sendMessage", "chat_id": "7", "text": "alert", "protect_content": "true"},
		{"method": "sendMessage", "chat_id": "7", "text": "quiet", "protect_content": "true", "disable_notification": "true"},
		{"method": "copyMessage", "chat_id": "7", "from_chat_id": "42", "message_id": "31", "protect_content": "true"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the second instance's calls (-want +got):\n%s", diff)
	}
	waitFor(t, "three ids reported", func() bool { return len(log.calls()) == 3 })
	if diff := cmp.Diff([]string{"7: 1 #case-1", "7: 2 #case-1", "7: 3 #case-2"}, log.calls()); diff != "" {
		t.Errorf("Sent calls (-want +got):\n%s", diff)
	}
}

// TestOutboxSendsWhatAnOlderVersionKept: a box from before copies and tags (no method, no
// tag) is a sendMessage without a tag.
func TestOutboxSendsWhatAnOlderVersionKept(t *testing.T) {
	r := redistest.New(t)
	old := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
	old.Lease = 100 * time.Millisecond
	_, err := old.Put(t.Context(), "42", [][]byte{
		[]byte(`{"c":"42","p":{"chat_id":"42","text":"kept before","protect_content":"true","disable_notification":"true"},"u":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	log := &sentLog{}
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Outbox = bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
		cfg.Outbox.Lease = 300 * time.Millisecond
		cfg.Sent = log.sent
	})
	call := e.srv.Wait("sendMessage", 1)[0]
	want := map[string]string{"chat_id": "42", "text": "kept before", "protect_content": "true", "disable_notification": "true"}
	if diff := cmp.Diff(want, call.Params); diff != "" {
		t.Errorf("sendMessage params (-want +got):\n%s", diff)
	}
	waitFor(t, "the id reported", func() bool { return len(log.calls()) == 1 })
	if diff := cmp.Diff([]string{"42: 1"}, log.calls()); diff != "" {
		t.Errorf("Sent calls (-want +got):\n%s", diff)
	}
}
