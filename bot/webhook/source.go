package webhook

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientAddr is the address a web chat request came from, the source the chat's limits count
// by: the connection's address or, with header set (Faros behind its own proxy), the last
// address in that header, the one the proxy added (a client can forge the ones before it);
// the connection's if the header is missing or unreadable. An IPv6 address counts by its /64,
// which one household or one phone network customer usually holds whole.
func clientAddr(r *http.Request, header string) string {
	if header != "" {
		if values := r.Header.Values(header); len(values) > 0 {
			last := values[len(values)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if addr, ok := parseAddr(last); ok {
				return source(addr)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if addr, ok := parseAddr(host); ok {
		return source(addr)
	}
	return host
}

// parseAddr reads an address with or without a port.
func parseAddr(s string) (netip.Addr, bool) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func source(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// sources gives each client address a budget of new conversations: a token bucket of burst
// tokens and one more every interval. It lives in memory, per instance: behind a load
// balancer each instance allows as much, which is generous, as it must be, since a shelter's
// or an office's people share one address.
type sources struct {
	burst int
	every time.Duration
	max   int // addresses remembered at most
	now   func() time.Time

	mu    sync.Mutex
	m     map[string]*rate.Limiter
	swept time.Time // when full buckets were last forgotten
}

// sweepEvery is how often sources forgets the addresses whose bucket is full again: they are
// the same as an address never seen.
const sweepEvery = time.Minute

func newSources(burst int, every time.Duration, max int, now func() time.Time) *sources {
	return &sources{burst: burst, every: every, max: max, now: now, m: make(map[string]*rate.Limiter)}
}

// allow takes a token of addr's budget. Without one, it returns how long until the next.
func (s *sources) allow(addr string) (wait time.Duration, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) >= sweepEvery {
		s.sweep(now)
	}
	lim := s.m[addr]
	if lim == nil {
		if len(s.m) >= s.max {
			// More addresses than the cap, all busy: forget any one. Its next request finds a
			// full bucket, which is lenient; someone holding that many addresses could get
			// past a per-address limit anyway, and the bot's intake limit still holds.
			for k := range s.m {
				delete(s.m, k)
				break
			}
		}
		lim = rate.NewLimiter(rate.Every(s.every), s.burst)
		s.m[addr] = lim
	}
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(missing * float64(s.every)).Round(time.Millisecond), false
}

// sweep forgets the addresses whose bucket is full again; under s.mu.
func (s *sources) sweep(now time.Time) {
	for k, lim := range s.m {
		if lim.TokensAt(now) >= float64(s.burst) {
			delete(s.m, k)
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
