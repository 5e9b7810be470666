package webhook

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// budgetKind names one of the budgets sources gives each client address.
type budgetKind int

const (
	// newConversations: messages of conversations that do not exist, each of which would
	// start one.
	newConversations budgetKind = iota
	// messages: the messages of live conversations that are not vital.
	messages
	budgetKinds
)

// budget is a token bucket: burst tokens at once, and one more every interval.
type budget struct {
	burst int
	every time.Duration
}

// sources gives each client address a token bucket of each budgetKind. It lives in memory,
// per instance: behind a load balancer each instance allows as much, which is generous, as it
// must be, since a shelter's or an office's people share one address.
type sources struct {
	budgets [budgetKinds]budget
	max     int // addresses remembered at most
	now     func() time.Time

	mu    sync.Mutex
	m     map[string]*[budgetKinds]*rate.Limiter // one entry per address, all its buckets
	swept time.Time                              // when full buckets were last forgotten
}

// sweepEvery is how often sources forgets the addresses whose buckets are all full again:
// they are the same as an address never seen.
const sweepEvery = time.Minute

func newSources(budgets [budgetKinds]budget, max int, now func() time.Time) *sources {
	return &sources{budgets: budgets, max: max, now: now, m: make(map[string]*[budgetKinds]*rate.Limiter)}
}

// allow takes a token of addr's budget of kind. Without one, it returns how long until the
// next.
func (s *sources) allow(addr string, kind budgetKind) (wait time.Duration, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) >= sweepEvery {
		s.sweep(now)
	}
	buckets := s.m[addr]
	if buckets == nil {
		if len(s.m) >= s.max {
			// More addresses than the cap, all busy: forget any one. Its next request finds
			// full buckets, which is lenient; someone holding that many addresses could get
			// past a per-address limit anyway, and the bot's intake limit still holds.
			for k := range s.m {
				delete(s.m, k)
				break
			}
		}
		buckets = new([budgetKinds]*rate.Limiter)
		for k, b := range s.budgets {
			buckets[k] = rate.NewLimiter(rate.Every(b.every), b.burst)
		}
		s.m[addr] = buckets
	}
	lim := buckets[kind]
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(missing * float64(s.budgets[kind].every)).Round(time.Millisecond), false
}

// sweep forgets the addresses whose buckets are all full again; under s.mu.
func (s *sources) sweep(now time.Time) {
	for addr, buckets := range s.m {
		full := true
		for k, lim := range buckets {
			full = full && lim.TokensAt(now) >= float64(s.budgets[k].burst)
		}
		if full {
			delete(s.m, addr)
		}
	}
	s.swept = now
}

// size is the number of addresses remembered.
func (s *sources) size() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.m))
}
