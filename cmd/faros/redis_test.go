package main

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestEmbeddedRedisExpiresKeys: the default run's in-process Redis lets keys expire on time,
// as a real Redis does; before, a minute's counter never reset and silenced a conversation
// for good after 20 messages.
func TestEmbeddedRedisExpiresKeys(t *testing.T) {
	rdb, closeRedis, err := openRedis(&config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	ctx := context.Background()
	if err := rdb.Set(ctx, "short", "x", 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "long", "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if n := rdb.Exists(ctx, "short").Val(); n != 0 {
		t.Errorf("a key with a TTL of 200 ms exists after 1.1 s; want it expired")
	}
	if ttl := rdb.TTL(ctx, "long").Val(); ttl > time.Hour-time.Second || ttl < time.Hour-3*time.Second {
		t.Errorf("a key set for an hour has %v left after 1.1 s; want about 59m59s", ttl)
	}
}
