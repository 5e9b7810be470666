package auth

// Floods. The sign-in and enrolment requests come before any session, from anyone: each may
// keep a ceremony in Redis for five minutes, and a password costs a 19 MiB hash. So each
// client address gets a token bucket (addrBucket), and all of them together one more
// (allBucket); beyond, 429 with Retry-After and calm words, Greek first. The buckets live in
// memory, per instance: behind a load balancer each instance allows as much, which is
// generous, as it must be, since the counsellors of one office share one address. Addresses
// whose buckets are full again are forgotten, and no more than maxAddrs are remembered.
// Signing out is not limited: it does nothing without a session, and no more than any
// request of the desk's with one.
//
// A password then waits at most hashWait for one of the hashing places (see password.go),
// and is told the server is busy (503) after that: a flood from many addresses can delay a
// counsellor's sign-in, never hold it without end.

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/faros-project/faros/internal/clientaddr"
)

// The buckets, and how long a password waits for a hashing place.
var (
	// One address: an office's counsellors signing in at the start of a shift, a request or
	// two each, then one a second.
	addrBucket = bucket{burst: 60, every: time.Second}
	// All addresses together: more than the desk's counsellors ever need, and few enough
	// ceremonies (a few MB) and hashes for Redis and the server.
	allBucket = bucket{burst: 600, every: 50 * time.Millisecond}
)

const (
	maxAddrs  = 10_000          // addresses remembered at most
	sweepAddr = time.Minute     // how often full buckets are forgotten
	hashWait  = 2 * time.Second // the longest a password waits for a hashing place
)

// bucket is a token bucket's size: burst tokens at once, and one more every interval.
type bucket struct {
	burst int
	every time.Duration
}

// limits are the buckets.
type limits struct {
	addr, everyone bucket
	max            int // addresses remembered at most
	now            func() time.Time

	mu     sync.Mutex
	all    *rate.Limiter
	m      map[string]*rate.Limiter
	swept  time.Time
	warned time.Time // when a refusal was last logged
}

func newLimits(addr, everyone bucket, max int, now func() time.Time) *limits {
	return &limits{addr: addr, everyone: everyone, max: max, now: now,
		all: rate.NewLimiter(rate.Every(everyone.every), everyone.burst), m: map[string]*rate.Limiter{}}
}

// allow takes a token of addr's bucket, then of everyone's. Without one, it returns how long
// until the next, and whether the refusal should be logged (once a minute at most: a flood
// must not flood the log too).
func (l *limits) allow(addr string) (wait time.Duration, ok, log bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= sweepAddr {
		for a, lim := range l.m {
			if lim.TokensAt(now) >= float64(l.addr.burst) {
				delete(l.m, a) // as good as never seen
			}
		}
		l.swept = now
	}
	lim := l.m[addr]
	if lim == nil {
		if len(l.m) >= l.max {
			// More busy addresses than the cap: forget any one. Its next request finds a full
			// bucket, which is lenient; the bucket of all addresses still holds.
			for a := range l.m {
				delete(l.m, a)
				break
			}
		}
		lim = rate.NewLimiter(rate.Every(l.addr.every), l.addr.burst)
		l.m[addr] = lim
	}
	// Under l.mu nothing else takes tokens between the looks and the takes. The address's
	// bucket is looked at first: an address that has spent its own must not spend everyone's.
	if lim.TokensAt(now) < 1 {
		return l.refused(now, until(lim, l.addr.every, now))
	}
	if l.all.TokensAt(now) < 1 {
		return l.refused(now, until(l.all, l.everyone.every, now))
	}
	lim.AllowN(now, 1)
	l.all.AllowN(now, 1)
	return 0, true, false
}

// until is how long lim, which gets a token each every, takes to have one.
func until(lim *rate.Limiter, every time.Duration, now time.Time) time.Duration {
	return time.Duration((1 - lim.TokensAt(now)) * float64(every)).Round(time.Millisecond)
}

func (l *limits) refused(now time.Time, wait time.Duration) (time.Duration, bool, bool) {
	log := now.Sub(l.warned) >= time.Minute
	if log {
		l.warned = now
	}
	return wait, false, log
}

// size is the number of addresses remembered.
func (l *limits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// admit applies the limits to r: nil, or the 429 to send.
func (a *Auth) admit(r *http.Request) error {
	addr, missing := clientaddr.Of(r, a.addrHeader)
	if missing {
		a.missingOnce.Do(func() {
			a.log.Warn("desk sign-in: a request without the client address header; counting it by its connection's address", "header", a.addrHeader)
		})
	}
	wait, ok, log := a.limits.allow(addr)
	if ok {
		return nil
	}
	if log {
		a.log.Warn("desk sign-in: too many requests; refusing them for now", "route", r.URL.Path)
	}
	return &problem{status: http.StatusTooManyRequests, msg: busyMessage(wait), retry: wait}
}
