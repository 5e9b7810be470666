package auth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// One address may send a burst, then one request a second; others are not held back by it;
// all together have a bucket too, and the one address that spent its own does not spend it.
func TestLimits(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := newLimits(bucket{burst: 3, every: time.Second}, bucket{burst: 4, every: 100 * time.Millisecond}, 100, func() time.Time { return now })
	for _, c := range []struct {
		what    string
		advance time.Duration
		addr    string
		ok      bool
		wait    time.Duration
	}{
		{"1 of 3", 0, "192.0.2.1", true, 0},
		{"2 of 3", 0, "192.0.2.1", true, 0},
		{"3 of 3", 0, "192.0.2.1", true, 0},
		{"a fourth at once", 0, "192.0.2.1", false, time.Second},
		{"a fifth at once: everyone's bucket is not spent by it", 0, "192.0.2.1", false, time.Second},
		{"another address", 0, "192.0.2.2", true, 0},
		{"a third address: everyone's 4 are spent", 0, "192.0.2.3", false, 100 * time.Millisecond},
		{"100 ms later", 100 * time.Millisecond, "192.0.2.3", true, 0},
		{"the first address 600 ms later", 500 * time.Millisecond, "192.0.2.1", false, 400 * time.Millisecond},
		{"the first address a second later", 400 * time.Millisecond, "192.0.2.1", true, 0},
	} {
		now = now.Add(c.advance)
		if wait, ok, _ := l.allow(c.addr); ok != c.ok || wait != c.wait {
			t.Errorf("%s: allow = %v, %v; want %v, %v", c.what, wait, ok, c.wait, c.ok)
		}
	}
}

// Addresses whose buckets are full again are forgotten, and no more than the cap are
// remembered.
func TestLimitsForgetIdleAddresses(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := newLimits(bucket{burst: 3, every: time.Second}, bucket{burst: 1000, every: time.Millisecond}, 10, func() time.Time { return now })
	for i := range 25 {
		l.allow(fmt.Sprintf("192.0.2.%d", i))
		if got := l.size(); got > 10 {
			t.Fatalf("after %d addresses: %d remembered; want at most 10", i+1, got)
		}
	}
	now = now.Add(sweepAddr)
	l.allow("198.51.100.1")
	if got := l.size(); got != 1 {
		t.Errorf("a minute later: %d addresses remembered; want 1, the others' buckets are full again", got)
	}
}

// A flood of sign-in requests from one address: beyond its burst each is refused with 429,
// Retry-After and calm words, before anything is kept in Redis; another address behind the
// desk's proxy still signs in, and so does the first one a second later. The refusal is
// logged once, without the address.
func TestAFloodFromOneAddressIsRefused(t *testing.T) {
	f := newFixtureWith(t, nil, func(c *Config) { c.ClientAddrHeader = "X-Forwarded-For" })
	from := func(addr string) []string { return []string{"X-Forwarded-For", "198.51.100.1, " + addr} }
	secret := f.enrolTOTP(f.browser(), "maria", goodPassword) // 2 requests, from the connection's address
	for i := range addrBucket.burst {
		if r := f.browser().post("/auth/passkey/begin", map[string]string{"id": fmt.Sprint("x", i)}, from("203.0.113.9")...); r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	keys, _ := f.r.Keys(t.Context())
	b := f.browser()
	r := b.post("/auth/passkey/begin", map[string]string{"id": "maria"}, from("203.0.113.9")...)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" || !strings.Contains(r.str("error"), " · Too many requests right now") {
		t.Errorf("request %d: %d %s Retry-After %q; want 429 after 1 s", addrBucket.burst+1, r.status, r.raw, r.header.Get("Retry-After"))
	}
	for range 20 {
		f.browser().post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": "123456"}, from("203.0.113.9")...)
	}
	if after, _ := f.r.Keys(t.Context()); len(after) != len(keys) {
		t.Errorf("refused requests kept %d keys in Redis", len(after)-len(keys))
	}
	if _, ok := b.cookies[ceremonyCookie]; ok {
		t.Error("a refused request began a ceremony")
	}
	if r := f.signin(f.browser(), "maria", goodPassword, secret, from("2001:db8::1")...); r.status != http.StatusOK {
		t.Errorf("another address: %d %s; want 200", r.status, r.raw)
	}
	f.advance(time.Second)
	if r := f.browser().post("/auth/passkey/begin", map[string]string{"id": "maria"}, from("203.0.113.9")...); r.status != http.StatusOK {
		t.Errorf("the first address a second later: %d %s; want 200", r.status, r.raw)
	}
	if n := strings.Count(f.logText(), "too many requests"); n != 1 || strings.Contains(f.logText(), "203.0.113.9") {
		t.Errorf("the flood is logged %d times (want once), or with its address:\n%s", n, f.logText())
	}
}

// The client address header must be a header's name.
func TestClientAddrHeaderIsAName(t *testing.T) {
	f := newFixture(t)
	for _, h := range []string{"X-Forwarded-For: 1.2.3.4", "X Real IP", "a,b"} {
		cfg := Config{Redis: f.r.Client, Secret: make([]byte, 32), Origin: testOrigin, Known: f.known, ClientAddrHeader: h}
		if _, err := New(cfg); err == nil {
			t.Errorf("ClientAddrHeader %q: no error", h)
		}
	}
}
