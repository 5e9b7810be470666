package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/seal"
)

// TestOutboxDropsOldMessages: a message older than OutboxMaxAge would answer what nobody
// remembers asking: it is dropped, not delivered.
func TestOutboxDropsOldMessages(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	o := NewOutbox(r.Client, r.Prefix, "telegram", []byte("secret"))
	old := time.Now().Add(-OutboxMaxAge - time.Minute)
	tag := o.Tag("4711")
	id := fmt.Sprintf("%016d-%04d-%s-%s", old.UnixMicro(), 1, tag, "token")
	r.Client.HSet(ctx, o.keys[0], id, seal.Seal(o.aead, []byte("stale"), tag+"-token"))
	r.Client.ZAdd(ctx, o.keys[1], redis.Z{Score: float64(old.UnixMilli()), Member: id})
	r.Client.Expire(ctx, o.keys[0], time.Minute)
	r.Client.Expire(ctx, o.keys[1], time.Minute)
	if taken, err := o.Take(ctx, 10); err != nil || len(taken) != 0 {
		t.Errorf("an hour-old message was taken: %q, %v", taken, err)
	}
	if n := r.Client.HLen(ctx, o.keys[0]).Val(); n != 0 {
		t.Errorf("the old message was kept")
	}
}

// TestOutboxKeysAlwaysExpire: keys emptied by Done and made again by the next Put, within the
// minute in which this instance does not renew their TTL, expire all the same.
func TestOutboxKeysAlwaysExpire(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	o := NewOutbox(r.Client, r.Prefix, "telegram", []byte("secret"))
	for i := range 3 {
		ids, err := o.Put(ctx, "4711", [][]byte{[]byte(fmt.Sprint("message ", i))})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range o.keys[:2] {
			if ttl := r.Client.TTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("after Put %d, %s has no TTL (%v)", i, k, ttl)
			}
		}
		if err := o.Done(ctx, ids...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrentPutsShareOneScript: the Puts of many chats made while one is in flight go to
// Redis together, in one script (two when they hold more than putMax messages), and each
// gets ids of its own chat, in its order, under which its own messages are taken over. A Put
// whose caller gave up while it waited is not put; one that fails fails with its batch only.
func TestConcurrentPutsShareOneScript(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	o := NewOutbox(r.Client, r.Prefix, "telegram", []byte("secret"))
	o.Lease = time.Millisecond
	if err := putScript.Load(ctx, r.Client).Err(); err != nil { // so that each batch is one EVALSHA
		t.Fatal(err)
	}
	h := &trips{held: make(chan struct{}), release: make(chan struct{})}
	r.Client.AddHook(h)

	const chats = 30
	want := map[string]string{} // id → its message
	var mu sync.Mutex
	put := func(chat string, messages [][]byte) func() {
		return func() {
			ids, err := o.Put(ctx, chat, messages)
			if err != nil || len(ids) != len(messages) {
				t.Errorf("chat %s: %d ids for %d messages, %v", chat, len(ids), len(messages), err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i, id := range ids {
				if !strings.Contains(id, "-"+o.Tag(chat)+"-") || (i > 0 && id <= ids[i-1]) {
					t.Errorf("chat %s: ids %q are not its own, in order", chat, ids)
				}
				want[id] = string(messages[i])
			}
		}
	}
	var calls []func()
	for c := range chats {
		var messages [][]byte
		for i := range 1 + c%3 {
			messages = append(messages, fmt.Appendf(nil, "chat %d, message %d", c, i))
		}
		calls = append(calls, put(fmt.Sprint(c), messages))
	}
	long := make([][]byte, putMax-10) // with the others, more than one script holds
	for i := range long {
		long[i] = fmt.Appendf(nil, "long, message %d", i)
	}
	calls = append(calls, put("long", long))
	var cancelled error
	calls = append(calls, func() {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, cancelled = o.Put(cctx, "gave up", [][]byte{[]byte("never put")})
	})
	queueBehind(t, &o.puts, h, put("lead", [][]byte{[]byte("lead")}), chats+1, calls...)

	if !errors.Is(cancelled, context.Canceled) {
		t.Errorf("a Put whose caller gave up while it waited: %v; want its context's error", cancelled)
	}
	h.mu.Lock()
	if h.singles != 3 || len(h.pipelines) != 0 {
		t.Errorf("%d Puts sent %d scripts and pipelines %v; want 3 scripts: the lead's, then the rest in two", chats+2, h.singles, h.pipelines)
	}
	h.mu.Unlock()
	time.Sleep(5 * time.Millisecond) // every lease lapses
	o.Lease = time.Minute            // and none of those taken over
	got := map[string]string{}
	for {
		taken, err := o.Take(ctx, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(taken) == 0 {
			break
		}
		for _, p := range taken {
			got[p.ID] = string(p.Message)
		}
	}
	if len(got) != len(want) || len(want) != 1+chats*2+len(long) {
		t.Errorf("taken over %d messages, put %d; want %d", len(got), len(want), 1+chats*2+len(long))
	}
	for id, msg := range want {
		if got[id] != msg {
			t.Errorf("%s: taken over %q; want %q", id, got[id], msg)
		}
	}

	// A batch that fails fails its own Puts, and the next one is put.
	r.Client.AddHook(failing{"evalsha"})
	if ids, err := o.Put(ctx, "4711", [][]byte{[]byte("x")}); err == nil || ids != nil {
		t.Errorf("a Put whose script failed: %q, %v; want an error", ids, err)
	}
}

// failing makes Redis fail the command named.
type failing struct{ name string }

func (f failing) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f failing) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == f.name {
			cmd.SetErr(errors.New("ERR refused by the test"))
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}
func (f failing) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
