package webhook

import (
	"fmt"
	"testing"
	"time"
)

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
