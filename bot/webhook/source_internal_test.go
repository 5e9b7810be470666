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
		missing    bool
	}{
		{"the connection", "192.0.2.7:5123", "", nil, "192.0.2.7", false},
		{"a header, not configured", "192.0.2.7:5123", "", []string{"203.0.113.9"}, "192.0.2.7", false},
		{"X-Forwarded-For: the proxy's entry, not the client's", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9", false},
		{"X-Forwarded-For in two lines", "10.0.0.2:80", "X-Forwarded-For", []string{"198.51.100.1", "198.51.100.2,203.0.113.9"}, "203.0.113.9", false},
		{"X-Real-IP", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9"}, "203.0.113.9", false},
		{"with a port", "10.0.0.2:80", "X-Real-IP", []string{"203.0.113.9:4431"}, "203.0.113.9", false},
		{"header missing", "10.0.0.2:80", "X-Forwarded-For", nil, "10.0.0.2", true},
		{"header unreadable", "10.0.0.2:80", "X-Forwarded-For", []string{"203.0.113.9, unknown"}, "10.0.0.2", true},
		{"IPv6 by its /64", "[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64", false},
		{"IPv6 in a header", "10.0.0.2:80", "X-Forwarded-For", []string{"2001:db8:1:2:ffff::1"}, "2001:db8:1:2::/64", false},
		{"IPv4 in IPv6", "[::ffff:192.0.2.7]:5123", "", nil, "192.0.2.7", false},
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
			if got, missing := clientAddr(r, tt.header); got != tt.want || missing != tt.missing {
				t.Errorf("clientAddr = %q, missing %v; want %q, %v", got, missing, tt.want, tt.missing)
			}
		})
	}
}

// clock is a time the test sets.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Unix(1_700_000_000, 0)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// budgets are those of TestSources: 3 new conversations, one more every 6 s; 2 messages,
// one more every second.
var testBudgets = [budgetKinds]budget{
	newConversations: {burst: 3, every: 6 * time.Second},
	messages:         {burst: 2, every: time.Second},
}

// TestSources: an address may spend each budget's burst at once, then one token per
// interval; the budgets and the addresses do not affect each other; wait says when the next
// token comes.
func TestSources(t *testing.T) {
	c := newClock()
	s := newSources(testBudgets, 100, c.now)
	tests := []struct {
		name    string
		advance time.Duration
		addr    string
		kind    budgetKind
		ok      bool
		wait    time.Duration
	}{
		{"conversation 1 of 3", 0, "192.0.2.1", newConversations, true, 0},
		{"conversation 2 of 3", 0, "192.0.2.1", newConversations, true, 0},
		{"conversation 3 of 3", 0, "192.0.2.1", newConversations, true, 0},
		{"a fourth at once", 0, "192.0.2.1", newConversations, false, 6 * time.Second},
		{"another address", 0, "192.0.2.2", newConversations, true, 0},
		{"a message: another budget", 0, "192.0.2.1", messages, true, 0},
		{"a second message", 0, "192.0.2.1", messages, true, 0},
		{"a third at once", 0, "192.0.2.1", messages, false, time.Second},
		{"4 s later, a conversation", 4 * time.Second, "192.0.2.1", newConversations, false, 2 * time.Second},
		{"4 s later, a message", 0, "192.0.2.1", messages, true, 0},
		{"6 s later, a conversation", 2 * time.Second, "192.0.2.1", newConversations, true, 0},
	}
	for _, tt := range tests {
		c.advance(tt.advance)
		if wait, ok := s.allow(tt.addr, tt.kind); ok != tt.ok || wait != tt.wait {
			t.Errorf("%s: allow = %v, %v; want %v, %v", tt.name, wait, ok, tt.wait, tt.ok)
		}
	}
}

// TestSourcesBounded: addresses whose buckets are all full again are forgotten, and no more
// than max are remembered, each once for all its budgets.
func TestSourcesBounded(t *testing.T) {
	c := newClock()
	s := newSources(testBudgets, 10, c.now)
	for i := range 25 {
		s.allow(fmt.Sprintf("192.0.2.%d", i), newConversations)
		s.allow(fmt.Sprintf("192.0.2.%d", i), messages)
		if got := s.size(); got > 10 {
			t.Fatalf("after %d addresses: %v remembered; want at most 10", i+1, got)
		}
	}
	c.advance(sweepEvery)
	s.allow("198.51.100.1", messages)
	if got := s.size(); got != 1 {
		t.Errorf("a minute later: %v addresses remembered; want 1, the others' buckets are full again", got)
	}
}
