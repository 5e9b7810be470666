package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/internal/redistest"
)

// inboxChat is a web chat's conversation id, as its page makes them.
const inboxChat = "0123456789abcdef0123456789abcdef"

// startSession makes conversation chatID of channel "web" live, as the Bot's first message
// does, for ttl (0: no TTL).
func startSession(t *testing.T, r *redistest.Redis, secret, chatID string, ttl time.Duration) {
	t.Helper()
	ctx := context.Background()
	key := r.Prefix + ":{p:" + pseudonym([]byte(secret), "web", chatID) + "}:conv"
	if err := r.Client.HSet(ctx, key, "s", `{"s":{}}`, "v", 1).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl > 0 {
		r.Client.Expire(ctx, key, ttl)
	}
}

// TestInboxKeepsOrderUntilAcknowledged: batches wait in the order put, with growing ids;
// reading deletes nothing, however many read at once; acknowledging a batch deletes it and
// every batch before it, and the ids go on growing after the inbox was emptied.
func TestInboxKeepsOrderUntilAcknowledged(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)

	first := []Reply{{Text: "A counsellor writes: hello"}, {Text: "Call 112", Urgent: true}}
	second := []Reply{{Text: "Are you there?", Buttons: []Button{{Data: "yes", Label: "Yes"}}}}
	for _, replies := range [][]Reply{first, second} {
		if _, err := in.Put(ctx, inboxChat, replies); err != nil {
			t.Fatalf("Put = %v; want nil", err)
		}
	}
	all := read(t, in, "")
	if d := cmp.Diff([][]Reply{first, second}, repliesOf(all)); d != "" {
		t.Fatalf("Read (-want +got):\n%s", d)
	}
	if id0, id1 := number(t, all[0].ID), number(t, all[1].ID); id1 <= id0 {
		t.Errorf("ids %s, %s; want growing", all[0].ID, all[1].ID)
	}

	var wg sync.WaitGroup
	for range 8 { // every stream of the page reads all of it
		wg.Go(func() {
			got, err := in.Read(ctx, inboxChat, "")
			if d := cmp.Diff(all, got); err != nil || d != "" {
				t.Errorf("a concurrent Read = %v (-want +got):\n%s", err, d)
			}
		})
	}
	wg.Wait()

	tests := []struct {
		name, ack, after string
		want             []Batch
	}{
		{"after the first", "", all[0].ID, all[1:]},
		{"a made-up id acknowledges nothing", "1234", "", all},
		{"the first acknowledged", all[0].ID, "", all[1:]},
		{"after an acknowledged batch: all that waits", "", all[0].ID, all[1:]},
		{"the last acknowledged", all[1].ID, "", nil},
	}
	for _, tt := range tests {
		if err := in.Ack(ctx, inboxChat, tt.ack); err != nil {
			t.Fatalf("%s: Ack = %v", tt.name, err)
		}
		if d := cmp.Diff(tt.want, read(t, in, tt.after)); d != "" {
			t.Errorf("%s: Read(%q) (-want +got):\n%s", tt.name, tt.after, d)
		}
	}
	if keys, _ := r.Keys(ctx); len(keys) != 1 {
		t.Errorf("keys with everything acknowledged: %q; want only the session", keys)
	}
	if _, err := in.Put(ctx, inboxChat, []Reply{{Text: "still there?"}}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, in, ""); len(got) != 1 || number(t, got[0].ID) <= number(t, all[1].ID) {
		t.Errorf("after the inbox was emptied, Read = %+v; want one batch with an id above %s", got, all[1].ID)
	}
}

// TestInboxIDsGrowUnderConcurrentPuts: batches put at once from many instances get distinct
// ids, growing in the order of the list.
func TestInboxIDsGrowUnderConcurrentPuts(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if _, err := in.Put(ctx, inboxChat, []Reply{{Text: strings.Repeat("x", i)}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := read(t, in, "")
	if len(got) != 50 {
		t.Fatalf("Read = %d batches; want 50", len(got))
	}
	for i := 1; i < len(got); i++ {
		if number(t, got[i].ID) <= number(t, got[i-1].ID) {
			t.Errorf("batch %d has id %s after %s; want growing ids", i, got[i].ID, got[i-1].ID)
		}
	}
}

// read reads conversation inboxChat's batches after after, or fails the test.
func read(t *testing.T, in *Inbox, after string) []Batch {
	t.Helper()
	got, err := in.Read(context.Background(), inboxChat, after)
	if err != nil {
		t.Fatalf("Read = %v", err)
	}
	return got
}

func repliesOf(batches []Batch) [][]Reply {
	var out [][]Reply
	for _, b := range batches {
		out = append(out, b.Replies)
	}
	return out
}

// number reads a batch id, which must be decimal digits that a page's JavaScript reads
// exactly (below 2^53).
func number(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || n >= 1<<53 || strconv.FormatInt(n, 10) != id {
		t.Fatalf("batch id %q; want decimal digits below 2^53", id)
	}
	return n
}

// TestInboxSealed: Redis holds neither the replies' text nor the conversation id, only under
// the key the wipe deletes; another secret reads nothing.
func TestInboxSealed(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	if _, err := in.Put(ctx, inboxChat, []Reply{{Text: "my boss keeps the passports", Buttons: []Button{{Data: "where", Label: "Where are you?"}}}}); err != nil {
		t.Fatal(err)
	}

	key := r.Prefix + ":{p:" + pseudonym([]byte("secret"), "web", inboxChat) + "}:inbox"
	if got := r.Client.Type(ctx, key).Val(); got != "list" {
		t.Fatalf("%s is a %q; want a list", key, got)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		for _, secret := range []string{inboxChat, "passport", "Where are you", "where"} {
			if strings.Contains(k+" "+r.Value(ctx, k), secret) {
				t.Errorf("%s holds %q in clear", k, secret)
			}
		}
	}

	other := NewInbox(r.Client, r.Prefix, "web", []byte("another secret"))
	if other.Tag(inboxChat) == in.Tag(inboxChat) {
		t.Fatal("two secrets give the same tag")
	}
	// The same key, read with another secret (after a rotation): skipped, not returned.
	other.key = []byte("secret")
	if got, err := other.Read(ctx, inboxChat, ""); err != nil || len(got) != 0 {
		t.Errorf("Read with another secret = %+v, %v; want nothing", got, err)
	}
}

// TestInboxTTL: the inbox expires with its session, and never later than inboxMaxAge.
func TestInboxTTL(t *testing.T) {
	tests := []struct {
		name    string
		session time.Duration // 0: no TTL
		want    time.Duration
	}{
		{"a page's first quarter of an hour", 15 * time.Minute, 15 * time.Minute},
		{"an idle session", 2 * time.Hour, 2 * time.Hour},
		{"longer than a case", 30 * 24 * time.Hour, inboxMaxAge},
		{"no TTL", 0, inboxMaxAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			ctx := context.Background()
			in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
			startSession(t, r, "secret", inboxChat, tt.session)
			if _, err := in.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
				t.Fatal(err)
			}
			key := r.Prefix + ":{p:" + in.Tag(inboxChat) + "}:inbox"
			if got := r.Client.PTTL(ctx, key).Val(); got > tt.want || got < tt.want-time.Minute {
				t.Errorf("TTL = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestInboxRefusedWithoutSession: a wiped, ended or expired conversation gets nothing, and no
// key is made for it.
func TestInboxRefusedWithoutSession(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	// Another channel's conversation of the same id, or another secret's, is not this one.
	for name, other := range map[string]*Inbox{
		"the same id in another channel": NewInbox(r.Client, r.Prefix, "api", []byte("secret")),
		"another secret":                 NewInbox(r.Client, r.Prefix, "web", []byte("another secret")),
	} {
		if _, err := other.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); !errors.Is(err, ErrGone) {
			t.Errorf("%s: Put = %v; want ErrGone", name, err)
		}
	}
	if _, err := in.Put(ctx, strings.Repeat("f", 32), []Reply{{Text: "hello"}}); !errors.Is(err, ErrGone) {
		t.Errorf("Put to a conversation that never was = %v; want ErrGone", err)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 1 {
		t.Errorf("keys: %q; want only the session", keys)
	}
}

// TestInboxBounded: an inbox nobody acknowledges keeps its last inboxMaxLen batches.
func TestInboxBounded(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	for i := range inboxMaxLen + 5 {
		if _, err := in.Put(ctx, inboxChat, []Reply{{Text: strings.Repeat("x", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got := read(t, in, "")
	if len(got) != inboxMaxLen || got[0].Replies[0].Text != strings.Repeat("x", 5) {
		t.Errorf("Read = %d batches (first %+v); want the last %d", len(got), got[0], inboxMaxLen)
	}
}

// TestInboxListen: a listener hears "" when it subscribes, then the tag of each conversation
// whose inbox got replies, from any instance, and never a conversation id.
func TestInboxListen(t *testing.T) {
	r := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	here := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	there := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)

	heard := make(chan string, 10)
	done := make(chan error)
	go func() { done <- here.Listen(ctx, func(tag string) { heard <- tag }) }()
	next := func() string {
		t.Helper()
		select {
		case tag := <-heard:
			return tag
		case <-time.After(5 * time.Second):
			t.Fatal("Listen heard nothing in 5 s")
			return ""
		}
	}
	if got := next(); got != "" {
		t.Errorf("first notice = %q; want \"\" (subscribed: look at every conversation)", got)
	}
	if _, err := there.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := next(), here.Tag(inboxChat); got != want {
		t.Errorf("notice = %q; want the conversation's tag %q", got, want)
	}
	if strings.Contains(here.Tag(inboxChat), inboxChat) {
		t.Errorf("the tag %q holds the conversation id", here.Tag(inboxChat))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Listen after ctx ended = %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return when ctx ended")
	}
}

// TestInboxListenReconnects: after Redis was unreachable, the listener subscribes again, says
// so with "" (notices may have been missed meanwhile), and hears the next notices.
func TestInboxListenReconnects(t *testing.T) {
	r := redistest.New(t)
	proxy, viaProxy := r.ProxyClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	here := NewInbox(viaProxy, r.Prefix, "web", []byte("secret"))
	there := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)

	heard := make(chan string, 10)
	done := make(chan error)
	go func() { done <- here.Listen(ctx, func(tag string) { heard <- tag }) }()
	defer func() { cancel(); <-done }()
	next := func(want string) {
		t.Helper()
		select {
		case got := <-heard:
			if got != want {
				t.Errorf("notice = %q; want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Listen heard nothing in 10 s; want %q", want)
		}
	}
	next("")
	proxy.Cut()
	time.Sleep(200 * time.Millisecond)
	proxy.Restore()
	next("")
	if _, err := there.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	next(here.Tag(inboxChat))
}

// TestInboxOnline: Put tells whether a page has an event stream open; the mark lasts as long
// as the stream asks, goes with Offline of the instance that made it (not another's: the page
// may have reconnected there), and is never made for a conversation that is gone.
func TestInboxOnline(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	online := r.Prefix + ":{p:" + in.Tag(inboxChat) + "}:online"
	put := func(when string, want bool) {
		t.Helper()
		if got, err := in.Put(ctx, inboxChat, []Reply{{Text: "are you there?"}}); err != nil || got != want {
			t.Errorf("%s: Put = %v, %v; want online %v", when, got, err, want)
		}
	}

	put("no page open", false)
	if err := in.Online(ctx, inboxChat, 50*time.Second, "instance-a"); err != nil {
		t.Fatalf("Online = %v", err)
	}
	put("a page open", true)
	if ttl := r.Client.PTTL(ctx, online).Val(); ttl > 50*time.Second || ttl < 49*time.Second {
		t.Errorf("TTL of %s = %v; want 50s", online, ttl)
	}
	// The page reconnected to instance b; a's stream, dead without a word, ends later.
	if err := in.Online(ctx, inboxChat, 50*time.Second, "instance-b"); err != nil {
		t.Fatalf("Online = %v", err)
	}
	if err := in.Offline(ctx, inboxChat, "instance-a"); err != nil {
		t.Fatalf("Offline = %v", err)
	}
	put("a's stream ended, b's is open", true)
	if err := in.Offline(ctx, inboxChat, "instance-b"); err != nil {
		t.Fatalf("Offline = %v", err)
	}
	put("the page closed", false)

	if err := in.Online(ctx, strings.Repeat("f", 32), time.Minute, "instance-a"); !errors.Is(err, ErrGone) {
		t.Errorf("Online for a conversation that is gone = %v; want ErrGone", err)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 2 {
		t.Errorf("keys: %q; want the session and the inbox", keys)
	}
}
