package webhook

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		header     string   // ClientAddrHeader
		values     []string // its lines in the request
		want       string
	}{
		{"the connection", "192.0.2.7:5123", "", nil, "192.0.2.7"},
		{"a header, not configured", "192.0.2.7:5123", "", []string{"203.0.113.9"}, "192.0.2.7"},
		{"X-Forwarded-For: the proxy's entry, not the client's", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"X-Forwarded-For in two lines", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1", "198.51.100.2,203.0.113.9"}, "203.0.113.9"},
		{"X-Real-IP", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9"}, "203.0.113.9"},
		{"with a port", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9:4431"}, "203.0.113.9"},
		{"header missing", "10.0.0.2:80", "X-Forwarded-For", nil, "10.0.0.2"},
		{"header unreadable", "10.0.0.2:80", "X-Forwarded-For", []string{"203.0.113.9, unknown"}, "10.0.0.2"},
		{"IPv6 by its /64", "[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64"},
		{"IPv6 in a header", "10.0.0.2:80", "X-Forwarded-For", []string{"2001:db8:1:2:ffff::1"}, "2001:db8:1:2::/64"},
		{"IPv4 in IPv6", "[::ffff:192.0.2.7]:5123", "", nil, "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/chat/messages", nil)
			r.RemoteAddr = tt.remoteAddr
			for _, v := range tt.values {
				r.Header.Add(tt.header, v)
				if tt.header == "" {
					r.Header.Add("X-Forwarded-For", v)
				}
			}
			if got := clientAddr(r, tt.header); got != tt.want {
				t.Errorf("clientAddr = %q; want %q", got, tt.want)
			}
		})
	}
}

// clock is a time the test sets.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Unix(1_700_000_000, 0)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestSources: an address may start burst conversations at once, then one per interval; the
// others are not affected; wait says when the next one comes.
func TestSources(t *testing.T) {
	c := newClock()
	s := newSources(3, 6*time.Second, 100, c.now)
	for i := range 3 {
		if _, ok := s.allow("192.0.2.1"); !ok {
			t.Fatalf("conversation %d of 3: refused", i+1)
		}
	}
	wait, ok := s.allow("192.0.2.1")
	if ok || wait != 6*time.Second {
		t.Errorf("a fourth at once: allow = %v, %v; want refused, wait 6s", wait, ok)
	}
	if _, ok := s.allow("192.0.2.2"); !ok {
		t.Error("another address: refused; want allowed")
	}
	c.advance(4 * time.Second)
	if wait, ok := s.allow("192.0.2.1"); ok || wait != 2*time.Second {
		t.Errorf("4 s later: allow = %v, %v; want refused, wait 2s", wait, ok)
	}
	c.advance(2 * time.Second)
	if _, ok := s.allow("192.0.2.1"); !ok {
		t.Error("6 s later: refused; want one more")
	}
}

// TestSourcesBounded: addresses whose bucket is full again are forgotten, and no more than
// max are remembered.
func TestSourcesBounded(t *testing.T) {
	c := newClock()
	s := newSources(2, time.Second, 10, c.now)
	for i := range 25 {
		s.allow(fmt.Sprintf("192.0.2.%d", i))
		if got := s.size(); got > 10 {
			t.Fatalf("after %d addresses: %v remembered; want at most 10", i+1, got)
		}
	}
	c.advance(sweepEvery)
	s.allow("198.51.100.1")
	if got := s.size(); got != 1 {
		t.Errorf("a minute later: %v addresses remembered; want 1, the others' buckets are full again", got)
	}
}
