package bot

import (
	"context"
	"fmt"
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
