package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// redisLog is where go-redis' own lines go: the service's JSON log. go-redis has one logger
// for the process, set before anything runs; each run points it at its log.
var redisLog atomic.Pointer[slog.Logger]

type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l := redisLog.Load(); l != nil {
		l.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
	}
}

func init() { redis.SetLogger(redisLogger{}) }

// openRedis connects to FAROS_REDIS_URL: one URL is one server; several comma-separated URLs
// (or host:port addresses) are a cluster, or the sentinels of FAROS_REDIS_MASTER. Without a
// URL it starts an in-process Redis, which keeps nothing when the process ends.
func openRedis(c *config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	redisLog.Store(log)
	if c.RedisURL == "" {
		m := miniredis.NewMiniRedis()
		m.ClockTTL(true) // keys expire on time, as in Redis: the local run is the same product
		// It listens on a loopback port: a password only this process knows keeps the other
		// users of the machine out of the conversations.
		password := rand.Text()
		m.RequireAuth(password)
		if err := m.Start(); err != nil {
			return nil, nil, fmt.Errorf("embedded redis: %w", err)
		}
		log.Warn("FAROS_REDIS_URL is empty: using an embedded Redis; nothing persists when Faros stops")
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password})
		return rdb, func() { rdb.Close(); m.Close() }, nil
	}
	parts := strings.Split(c.RedisURL, ",")
	if len(parts) == 1 && c.RedisMaster == "" {
		opt, err := redis.ParseURL(parts[0])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", named("FAROS_REDIS_URL"), err)
		}
		rdb := redis.NewClient(opt)
		if err := checkRedis(rdb, log); err != nil {
			rdb.Close()
			return nil, nil, err
		}
		return rdb, func() { rdb.Close() }, nil
	}
	uo := &redis.UniversalOptions{MasterName: c.RedisMaster}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "://") {
			uo.Addrs = append(uo.Addrs, p)
			continue
		}
		opt, err := redis.ParseURL(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", named("FAROS_REDIS_URL"), err)
		}
		uo.Addrs = append(uo.Addrs, opt.Addr)
		uo.Username, uo.Password, uo.TLSConfig, uo.DB = opt.Username, opt.Password, opt.TLSConfig, opt.DB
	}
	rdb := redis.NewUniversalClient(uo)
	if err := checkRedis(rdb, log); err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return rdb, func() { rdb.Close() }, nil
}

// checkRedis asks Redis once at start. A setting Redis refuses (a database number it does not
// have, a wrong password) stops the start with the variable to change; a Redis that does not
// answer yet is one ERROR line, and Faros starts all the same: people get the numbers, and
// /readyz says 503, until Redis answers.
// transient reports whether Redis' refusal is one that passes by itself (a dataset loading
// after a restart, a failover, a busy script): Faros starts, answering with the numbers
// until Redis is ready, rather than leave everyone without an answer.
func transient(err error) bool {
	for _, prefix := range []string{"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}

// isReply reports whether err is Redis' own answer (an error reply), not a network failure.
func isReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

func checkRedis(rdb redis.UniversalClient, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := rdb.Ping(ctx).Err()
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "DB index is out of range"):
		return fmt.Errorf("%s: Redis has no such database: %w", named("FAROS_REDIS_URL"), err)
	case strings.Contains(err.Error(), "WRONGPASS"), strings.Contains(err.Error(), "NOAUTH"):
		return fmt.Errorf("%s: Redis refused the user or password: %w", named("FAROS_REDIS_URL"), err)
	case isReply(err) && !transient(err):
		// Redis answered, and refused: waiting will not mend it.
		return fmt.Errorf("%s: Redis refused the connection: %w", named("FAROS_REDIS_URL"), err)
	}
	log.Error("Redis does not answer: people get the help numbers, and /readyz says 503, until it does", "err", err)
	return nil
}

// redisSettings are the Redis settings Faros wants, each with what goes wrong without it
// (docs/CAPACITY.md, "Memory").
var redisSettings = []struct {
	name, want string
	ok         func(value string) bool
	why        string
}{
	{"maxmemory-policy", "noeviction", func(v string) bool { return v == "noeviction" },
		"with any other policy a full Redis drops open cases, queued replies and wipe records without a word"},
	{"hash-max-listpack-value", "512", atLeast(512),
		"a conversation's state is a few hundred bytes: below 512 Redis keeps it in its large form, about 1.3 kB a conversation instead of 0.7"},
	{"zset-max-listpack-entries", "512", atLeast(512),
		"a Telegram chat's message ids, kept 48 hours for a wipe, take about 100 bytes each instead of 12 beyond this many"},
}

// atLeast accepts a number of n or more.
func atLeast(n int) func(string) bool {
	return func(v string) bool {
		i, err := strconv.Atoi(v)
		return err == nil && i >= n
	}
}

// checkSettings logs a WARN line for each of Redis' settings that is not what Faros wants, as
// the service starts on a Redis of its deployer's. A Redis that does not let Faros read them
// (a managed Redis, an ACL) gets one INFO line; one that does not answer, nothing more than
// checkRedis said; a setting this Redis does not know is passed over.
func checkSettings(rdb redis.UniversalClient, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	readSettings(func(name string) (string, error) {
		values, err := rdb.ConfigGet(ctx, name).Result()
		return values[name], err
	}, log)
}

// readSettings is checkSettings with Redis' CONFIG GET as get.
func readSettings(get func(name string) (string, error), log *slog.Logger) {
	for _, s := range redisSettings {
		value, err := get(s.name)
		if err != nil {
			if isReply(err) {
				log.Info("redis: cannot read its settings; check them by hand (docs/CAPACITY.md)", "err", err)
			}
			return
		}
		if value != "" && !s.ok(value) {
			log.Warn("redis: set "+s.name+" "+s.want, "value", value, "why", s.why)
		}
	}
}
