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
	id := fmt.Sprintf("%013d-%012d-x", old.UnixMilli(), 1)
	r.Client.HSet(ctx, o.items, id, seal.Seal(o.aead, []byte("stale"), id))
	r.Client.ZAdd(ctx, o.lease, redis.Z{Score: float64(old.UnixMilli()), Member: id})
	r.Client.Expire(ctx, o.items, time.Minute)
	r.Client.Expire(ctx, o.lease, time.Minute)
	if taken, err := o.Take(ctx, 10); err != nil || len(taken) != 0 {
		t.Errorf("an hour-old message was taken: %q, %v", taken, err)
	}
	if n := r.Client.HLen(ctx, o.items).Val(); n != 0 {
		t.Errorf("the old message was kept")
	}
}
