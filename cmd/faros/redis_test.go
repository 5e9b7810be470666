package main

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
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

// TestRedisSettingsAdvised: a setting of Redis that would drop cases or waste memory is one
// WARN line at the service's start, naming it and what to set; a Redis that does not let Faros
// read its settings is one INFO line, and Faros starts all the same.
func TestRedisSettingsAdvised(t *testing.T) {
	read := func(values map[string]string, refuse error) string {
		var logs testkit.LogBuffer
		readSettings(func(name string) (string, error) { return values[name], refuse }, slog.New(slog.NewJSONHandler(&logs, nil)))
		return logs.String()
	}
	defaults := read(map[string]string{"maxmemory-policy": "volatile-lru",
		"hash-max-listpack-value": "64", "zset-max-listpack-entries": "128"}, nil)
	for _, want := range []string{"set maxmemory-policy noeviction", "set hash-max-listpack-value 512", "set zset-max-listpack-entries 512"} {
		if !strings.Contains(defaults, `"level":"WARN","msg":"redis: `+want+`"`) {
			t.Errorf("no WARN line %q; the log:\n%s", want, defaults)
		}
	}
	if good := read(map[string]string{"maxmemory-policy": "noeviction",
		"hash-max-listpack-value": "512", "zset-max-listpack-entries": "1024"}, nil); good != "" {
		t.Errorf("settings as wanted were logged:\n%s", good)
	}
	if old := read(map[string]string{"maxmemory-policy": "noeviction"}, nil); old != "" {
		t.Errorf("settings this Redis does not know were logged:\n%s", old)
	}
	refused := read(nil, replyError("NOPERM this user has no permissions to run the 'config|get' command"))
	if strings.Count(refused, "\n") != 1 || !strings.Contains(refused, `"level":"INFO","msg":"redis: cannot read its settings`) {
		t.Errorf("want one INFO line when CONFIG GET is refused; the log:\n%s", refused)
	}
	if down := read(nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")); down != "" {
		t.Errorf("a Redis that does not answer got more lines (checkRedis said it already):\n%s", down)
	}

	// The service reads the settings of the Redis it is given.
	r := redistest.New(t)
	log := start(t, r, nil).log.String()
	if !r.Real {
		return // miniredis has no settings to read
	}
	if strings.Contains(log, "cannot read") {
		t.Errorf("Faros could not read a real Redis' settings; the log:\n%s", log)
	}
	value := r.Client.ConfigGet(context.Background(), "hash-max-listpack-value").Val()["hash-max-listpack-value"]
	n, _ := strconv.Atoi(value)
	if warned := strings.Contains(log, "set hash-max-listpack-value 512"); warned != (n < 512) {
		t.Errorf("hash-max-listpack-value is %q, and Faros warned: %v; the log:\n%s", value, warned, log)
	}
}

// replyError is an error reply of Redis, as go-redis gives it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}
