package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
)

// TestOverload offers ten times what Telegram accepts: 300 messages in one second to 100 chats,
// plus one emergency reply each to 15 other chats, against a fake Bot API that answers 429
// beyond 30 messages a second overall and one a second per chat, counted as they arrive.
// Faros' own pacing (its defaults) must cause no 429, also on a busy machine, lose nothing,
// and deliver the emergency replies first. It takes about eleven seconds: the time Telegram's
// limits need.
func TestOverload(t *testing.T) {
	if testing.Short() {
		t.Skip("ten seconds of real pacing")
	}
	e := start(t, &handler{}, nil)
	e.srv.Limit(30, time.Second)
	const chats, perChat, urgentEvery = 100, 3, 20 // and an emergency reply in a chat of its own every 20
	type result struct {
		urgent bool
		delay  time.Duration
		err    error
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	start := time.Now()
	for i := range chats * perChat {
		offer := start.Add(time.Duration(i) * time.Second / (chats * perChat))
		send := func(chat string, urgent bool) {
			time.Sleep(time.Until(offer))
			t0 := time.Now()
			err := e.ch.Send(context.Background(), chat, []bot.Reply{{Text: fmt.Sprint("message ", i), Urgent: urgent}})
			mu.Lock()
			results = append(results, result{urgent, time.Since(t0), err})
			mu.Unlock()
		}
		wg.Go(func() { send(fmt.Sprint(1000+i%chats), false) })
		if i%urgentEvery == 0 {
			wg.Go(func() { send(fmt.Sprint(5000+i), true) })
		}
	}
	wg.Wait()
	var urgent, ordinary []time.Duration
	for _, r := range results {
		if r.err != nil {
			t.Errorf("a message was lost: %v", r.err)
		}
		if r.urgent {
			urgent = append(urgent, r.delay)
		} else {
			ordinary = append(ordinary, r.delay)
		}
	}
	flooded := 0
	for _, c := range e.srv.Calls("sendMessage") {
		if c.Status == http.StatusTooManyRequests {
			flooded++
		}
	}
	if flooded > 0 {
		t.Errorf("Telegram answered 429 %d times; Faros' pacing should prevent every one", flooded)
	}
	if n, want := len(e.srv.Calls("sendMessage"))-flooded, len(results); n != want {
		t.Errorf("%d messages delivered; want %d", n, want)
	}
	p99u, p99o := p99(urgent), p99(ordinary)
	t.Logf("overload: %d messages offered in 1 s; emergency replies p50 %v p99 %v; ordinary replies p50 %v p99 %v; 429s: %d",
		len(results), p50(urgent), p99u, p50(ordinary), p99o, flooded)
	if p99u > time.Second {
		t.Errorf("emergency replies waited up to %v (p99); want at most 1s", p99u)
	}
}

func p50(ds []time.Duration) time.Duration { return pct(ds, 0.50) }
func p99(ds []time.Duration) time.Duration { return pct(ds, 0.99) }

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(time.Millisecond)
}
