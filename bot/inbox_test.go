package bot

import (
	"context"
	"errors"
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
	key := r.Prefix + ":{p:" + pseudonym([]byte(secret), "web", chatID) + "}:session"
	if err := r.Client.Set(context.Background(), key, `{"s":{}}`, ttl).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestInboxKeepsOrderAndDrainsOnce: replies wait in the order put, and whoever takes them
// first gets all of them, once.
func TestInboxKeepsOrderAndDrainsOnce(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)

	first := []Reply{{Text: "A counsellor writes: hello"}, {Text: "Call 112", Urgent: true}}
	second := []Reply{{Text: "Are you there?", Buttons: []Button{{Data: "yes", Label: "Yes"}}}}
	for _, replies := range [][]Reply{first, second} {
		if err := in.Put(ctx, inboxChat, replies); err != nil {
			t.Fatalf("Put = %v; want nil", err)
		}
	}

	var mu sync.Mutex
	var got [][]Reply
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			replies, err := in.Take(ctx, inboxChat)
			if err != nil {
				t.Errorf("Take = %v", err)
			}
			if len(replies) > 0 {
				mu.Lock()
				got = append(got, replies)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	want := [][]Reply{append(append([]Reply(nil), first...), second...)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("what 8 concurrent Takes got (-want +got):\n%s", d)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 1 {
		t.Errorf("keys after Take: %q; want only the session", keys)
	}
}

// TestInboxSealed: Redis holds neither the replies' text nor the conversation id, only under
// the key the wipe deletes; another secret reads nothing.
func TestInboxSealed(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	if err := in.Put(ctx, inboxChat, []Reply{{Text: "my boss keeps the passports", Buttons: []Button{{Data: "where", Label: "Where are you?"}}}}); err != nil {
		t.Fatal(err)
	}

	key := r.Prefix + ":{p:" + pseudonym([]byte("secret"), "web", inboxChat) + "}:inbox"
	if got := r.Client.Type(ctx, key).Val(); got != "list" {
		t.Fatalf("%s is a %q; want a list", key, got)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		var values []string
		if k == key {
			values = r.Client.LRange(ctx, k, 0, -1).Val()
		} else {
			values = []string{r.Client.Get(ctx, k).Val()}
		}
		for _, secret := range []string{inboxChat, "passport", "Where are you", "where"} {
			if strings.Contains(k+" "+strings.Join(values, " "), secret) {
				t.Errorf("%s holds %q in clear", k, secret)
			}
		}
	}

	other := NewInbox(r.Client, r.Prefix, "web", []byte("another secret"))
	if other.Tag(inboxChat) == in.Tag(inboxChat) {
		t.Fatal("two secrets give the same tag")
	}
	// The same key, read with another secret (after a rotation): dropped, not returned.
	other.key = []byte("secret")
	if got, err := other.Take(ctx, inboxChat); err != nil || len(got) != 0 {
		t.Errorf("Take with another secret = %+v, %v; want nothing", got, err)
	}
	if n := r.Client.Exists(ctx, key).Val(); n != 0 {
		t.Errorf("the unreadable inbox is still there")
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
			if err := in.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
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
		if err := other.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); !errors.Is(err, ErrGone) {
			t.Errorf("%s: Put = %v; want ErrGone", name, err)
		}
	}
	if err := in.Put(ctx, strings.Repeat("f", 32), []Reply{{Text: "hello"}}); !errors.Is(err, ErrGone) {
		t.Errorf("Put to a conversation that never was = %v; want ErrGone", err)
	}
	if keys, _ := r.Keys(ctx); len(keys) != 1 {
		t.Errorf("keys: %q; want only the session", keys)
	}
}

// TestInboxBounded: an inbox nobody takes keeps its last inboxMaxLen batches.
func TestInboxBounded(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	in := NewInbox(r.Client, r.Prefix, "web", []byte("secret"))
	startSession(t, r, "secret", inboxChat, time.Hour)
	for i := range inboxMaxLen + 5 {
		if err := in.Put(ctx, inboxChat, []Reply{{Text: strings.Repeat("x", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := in.Take(ctx, inboxChat)
	if err != nil || len(got) != inboxMaxLen || got[0].Text != strings.Repeat("x", 5) {
		t.Errorf("Take = %d replies (first %q), %v; want the last %d", len(got), got[0].Text, err, inboxMaxLen)
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
	if err := there.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
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
	if err := there.Put(ctx, inboxChat, []Reply{{Text: "hello"}}); err != nil {
		t.Fatal(err)
	}
	next(here.Tag(inboxChat))
}
