package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// openRedis connects to FAROS_REDIS_URL: one URL is one server; several comma-separated URLs
// (or host:port addresses) are a cluster, or the sentinels of FAROS_REDIS_MASTER. Without a
// URL it starts an in-process Redis, which keeps nothing when the process ends.
func openRedis(c *config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if c.RedisURL == "" {
		m := miniredis.NewMiniRedis()
		m.ClockTTL(true) // keys expire on time, as in Redis: the local run is the same product
		if err := m.Start(); err != nil {
			return nil, nil, fmt.Errorf("embedded redis: %w", err)
		}
		log.Warn("FAROS_REDIS_URL is empty: using an embedded Redis; nothing persists when Faros stops")
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return rdb, func() { rdb.Close(); m.Close() }, nil
	}
	parts := strings.Split(c.RedisURL, ",")
	if len(parts) == 1 && c.RedisMaster == "" {
		opt, err := redis.ParseURL(parts[0])
		if err != nil {
			return nil, nil, fmt.Errorf("FAROS_REDIS_URL: %w", err)
		}
		rdb := redis.NewClient(opt)
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
			return nil, nil, fmt.Errorf("FAROS_REDIS_URL: %w", err)
		}
		uo.Addrs = append(uo.Addrs, opt.Addr)
		uo.Username, uo.Password, uo.TLSConfig = opt.Username, opt.Password, opt.TLSConfig
	}
	rdb := redis.NewUniversalClient(uo)
	return rdb, func() { rdb.Close() }, nil
}
