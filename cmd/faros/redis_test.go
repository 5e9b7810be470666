package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
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

// TestEmbeddedRedisIsNotOpen: the embedded Redis listens on a loopback port; without the
// password only Faros knows, another program on the machine reads nothing.
func TestEmbeddedRedisIsNotOpen(t *testing.T) {
	rdb, closeRedis, err := openRedis(&config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	other := redis.NewClient(&redis.Options{Addr: rdb.(*redis.Client).Options().Addr})
	defer other.Close()
	if err := other.Get(context.Background(), "any").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("a client without the password: %v; want NOAUTH", err)
	}
}

// TestRedisCheckedAtStart: a database Redis does not have stops the start, naming the
// variable and its flag; a Redis that does not answer is one ERROR line, and Faros starts.
func TestRedisCheckedAtStart(t *testing.T) {
	if r := redistest.New(t); r.Real && !r.Cluster { // miniredis takes any database number
		_, _, err := openRedis(&config{RedisURL: "redis://" + r.Addr + "/999"}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "FAROS_REDIS_URL (--redis-url): Redis has no such database") {
			t.Errorf("database 999: %v; want a startup error naming FAROS_REDIS_URL", err)
		}
	}

	dead := miniredis.RunT(t)
	addr := dead.Addr()
	dead.Close()
	var logs testkit.LogBuffer
	rdb, closeRedis, err := openRedis(&config{RedisURL: "redis://" + addr + "/0"}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("a Redis that does not answer stopped the start: %v", err)
	}
	closeRedis()
	if rdb == nil {
		t.Fatal("no client")
	}
	if n := strings.Count(logs.String(), `"level":"ERROR"`); n != 1 || !strings.Contains(logs.String(), "Redis does not answer") {
		t.Errorf("want one ERROR line saying Redis does not answer; the log:\n%s", logs.String())
	}
}
