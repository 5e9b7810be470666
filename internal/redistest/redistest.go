// Package redistest gives tests a Redis: the real server named by FAROS_TEST_REDIS_URL (CI
// sets it; several comma-separated URLs are a Redis Cluster), or an in-process miniredis when
// it is unset. Each test gets its own key prefix, and its keys are deleted when it ends, so
// packages can share one database in parallel.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Redis is one test's Redis.
type Redis struct {
	Client  redis.UniversalClient
	Addr    string // host:port the client talks to (the first node of a cluster)
	Prefix  string // the test's own key prefix, e.g. "faros-test-1a2b3c"
	Real    bool   // a real server, not miniredis
	Cluster bool   // a Redis Cluster
	url     string
}

// Strict reports whether tests must not fall back or skip (FAROS_TEST_STRICT=1, set by CI).
func Strict() bool { return os.Getenv("FAROS_TEST_STRICT") == "1" }

// New returns a Redis for t. With FAROS_TEST_REDIS_URL set, the server must answer: a test
// never silently skips Redis. Under FAROS_TEST_STRICT=1 the URL must be set.
func New(t testing.TB) *Redis {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	r := &Redis{Prefix: "faros-test-" + hex.EncodeToString(b)}
	r.url = os.Getenv("FAROS_TEST_REDIS_URL")
	switch {
	case strings.Contains(r.url, ","):
		var addrs []string
		for _, u := range strings.Split(r.url, ",") {
			opt, err := redis.ParseURL(strings.TrimSpace(u))
			if err != nil {
				t.Fatalf("FAROS_TEST_REDIS_URL: %v", err)
			}
			addrs = append(addrs, opt.Addr)
		}
		r.Client, r.Addr, r.Real, r.Cluster = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}), addrs[0], true, true
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := r.Client.Ping(ctx).Err(); err != nil {
			t.Fatalf("FAROS_TEST_REDIS_URL=%s does not answer: %v", r.url, err)
		}
	case r.url != "":
		opt, err := redis.ParseURL(r.url)
		if err != nil {
			t.Fatalf("FAROS_TEST_REDIS_URL: %v", err)
		}
		r.Client, r.Addr, r.Real = redis.NewClient(opt), opt.Addr, true
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := r.Client.Ping(ctx).Err(); err != nil {
			t.Fatalf("FAROS_TEST_REDIS_URL=%s does not answer: %v", r.url, err)
		}
	case Strict():
		t.Fatal("FAROS_TEST_STRICT=1 but FAROS_TEST_REDIS_URL is not set: the Redis tests would run on miniredis")
	default:
		m := miniredis.RunT(t)
		m.ClockTTL(true) // keys expire on time, as in a real Redis
		r.Client, r.Addr = redis.NewClient(&redis.Options{Addr: m.Addr()}), m.Addr()
	}
	t.Cleanup(func() {
		r.DeleteAll()
		r.Client.Close()
	})
	return r
}

// URL is how FAROS_REDIS_URL names this Redis: its URL (a cluster's list of URLs), or the
// embedded one's address.
func (r *Redis) URL() string {
	if r.url == "" {
		return "redis://" + r.Addr
	}
	return r.url
}

// Proxy starts a Proxy in front of this Redis and returns it with the URL that goes through
// it. A cluster client finds the nodes by itself, around any proxy: there the test skips.
func (r *Redis) Proxy(t testing.TB) (*Proxy, string) {
	t.Helper()
	if r.Cluster {
		t.Skip("a proxy cannot stand between a cluster client and the nodes it discovers")
	}
	p := NewProxy(t, r.Addr)
	if r.url == "" {
		return p, "redis://" + p.Addr()
	}
	u, _ := url.Parse(r.url)
	u.Host = p.Addr()
	return p, u.String()
}

// ProxyClient starts a Proxy in front of this Redis and returns it with a client that goes
// through it, closed when the test ends.
func (r *Redis) ProxyClient(t testing.TB) (*Proxy, *redis.Client) {
	t.Helper()
	p, url := r.Proxy(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return p, c
}

// Keys returns every key of the test's prefix, on every node.
func (r *Redis) Keys(ctx context.Context) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, r.Prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	switch c := r.Client.(type) {
	case *redis.ClusterClient:
		return keys, c.ForEachMaster(ctx, scan)
	case *redis.Client:
		return keys, scan(ctx, c)
	}
	return nil, nil
}

// Value returns everything key k holds as text, whatever its type (a hash as its fields and
// values), for a test to search for what must not be there.
func (r *Redis) Value(ctx context.Context, k string) string {
	var parts []string
	switch r.Client.Type(ctx, k).Val() {
	case "string":
		parts = []string{r.Client.Get(ctx, k).Val()}
	case "hash":
		for f, v := range r.Client.HGetAll(ctx, k).Val() {
			parts = append(parts, f, v)
		}
	case "list":
		parts = r.Client.LRange(ctx, k, 0, -1).Val()
	case "set":
		parts = r.Client.SMembers(ctx, k).Val()
	case "zset":
		parts = r.Client.ZRange(ctx, k, 0, -1).Val()
	}
	return strings.Join(parts, "\n")
}

// Conversations returns the keys of the test's conversations ({p:…}) that hold more than
// what a wipe leaves: the conversation's hash with only the wipe's time and a version.
func (r *Redis) Conversations(ctx context.Context) []string {
	keys, _ := r.Keys(ctx)
	var out []string
	for _, k := range keys {
		if !strings.Contains(k, "{p:") || strings.HasSuffix(k, ":conv") && wipedOnly(r.Client.HKeys(ctx, k).Val()) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func wipedOnly(fields []string) bool {
	slices.Sort(fields)
	return slices.Equal(fields, []string{"v", "w"})
}

// WipedOnly checks that all the test's keys hold is what a wipe leaves of a conversation: its
// hash with only the wipe's time (w) and a version (v), for at most two minutes.
func (r *Redis) WipedOnly(ctx context.Context) error {
	keys, err := r.Keys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("no key: the wipe's time is not kept")
	}
	for _, k := range keys {
		fields := r.Client.HKeys(ctx, k).Val()
		if !strings.HasSuffix(k, ":conv") || !wipedOnly(fields) {
			return fmt.Errorf("%s holds %q; want only a conversation's wipe time and version", k, fields)
		}
		if ttl := r.Client.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 2*time.Minute {
			return fmt.Errorf("%s lives %v; want at most two minutes", k, ttl)
		}
	}
	return nil
}

// DeleteAll deletes the test's keys.
func (r *Redis) DeleteAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		r.Client.Del(ctx, k)
	}
}

// Proxy forwards TCP connections to a Redis and can cut them, to test what Faros does while
// Redis is unreachable, the same way against miniredis and a real server.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

// NewProxy starts a proxy to target; it stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		var up net.Conn
		if !down {
			up, err = net.Dial("tcp", p.target)
			down = err != nil
		}
		if down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}
