package main

// The load itself: the synthetic conversations against one URL, and what is counted at the two
// ends of the measured window. The same for Faros and the peer, so that they are measured alike.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

var langs = []string{"el", "en", "fr", "sq"}

// snapshot is what is counted at one end of the measured window; the figures are differences.
type snapshot struct {
	trips    int64            // round trips of this process' Redis client (Faros' own)
	cpu      time.Duration    // this process
	peerCPU  time.Duration    // the peer's process; 0 for Faros
	commands map[string]int64 // Redis' commands by name, all clients (INFO commandstats)
	redisCPU time.Duration    // Redis' own CPU, the whole server (INFO cpu)
	sends    int64            // sendMessage calls the fake Bot API took
	answers  int64            // answerCallbackQuery calls
	hooked   int64            // of them, made by a webhook's answer
	conns    int64            // connections opened to the fake Bot API
}

func (s snapshot) sub(t snapshot) snapshot {
	return snapshot{trips: s.trips - t.trips, cpu: s.cpu - t.cpu, peerCPU: s.peerCPU - t.peerCPU,
		commands: subCounts(s.commands, t.commands), redisCPU: s.redisCPU - t.redisCPU,
		sends: s.sends - t.sends, answers: s.answers - t.answers, hooked: s.hooked - t.hooked, conns: s.conns - t.conns}
}

func subCounts(s, t map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, n := range s {
		if d := n - t[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// window is one measured run: the messages answered within it, the latencies of those also sent
// within it, the failures over the whole run, and the counts' differences over the window.
type window struct {
	answered  int
	latencies []time.Duration
	failures  int64
	elapsed   time.Duration
	counted   snapshot
	cpu       cpuSplit // this process' CPU over the window: Faros', the load generator's, the runtime's
}

// drive runs o.conversations synthetic people against url (each named by prefix) for a warm-up
// second and o.duration more, calling snap at both ends of the measured window. via is how
// they talk: api, or telegram (also to the peer, which is a Telegram bot), whose webhook's
// answers go to telegram, the fake Bot API.
func drive(ctx context.Context, o options, url, via string, telegram *fakeBotAPI, routes map[string][]string, prefix string, snap func() snapshot) (window, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conversations, MaxConnsPerHost: o.conversations}}
	defer client.CloseIdleConnections()
	var (
		measuring, stop atomic.Bool
		mu              sync.Mutex
		w               window
		failures        atomic.Int64
		answered        atomic.Int64
	)
	limit := rate.NewLimiter(rate.Inf, 1)
	if o.perSecond > 0 {
		limit = rate.NewLimiter(rate.Limit(o.perSecond), o.perSecond/100+1)
	}
	var wg sync.WaitGroup
	for i := range o.conversations {
		wg.Go(func() {
			label(ctx, "load")
			lang := langs[i%len(langs)]
			c := &conversation{id: fmt.Sprintf("load-%s-%d", prefix, i), chat: int64(1_000_000 + i),
				lang: lang, client: client, url: url, via: via, route: routes[lang], telegram: telegram}
			var mine []time.Duration
			for !stop.Load() {
				_ = limit.Wait(ctx)
				sentInWindow := measuring.Load()
				d, err := c.next()
				if err != nil {
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				// Every message answered in the window counts for throughput; its latency only
				// if it was sent in the window too, not when it waited through the warm-up.
				if measuring.Load() {
					answered.Add(1)
					if sentInWindow {
						mine = append(mine, d)
					}
				}
			}
			mu.Lock()
			w.latencies = append(w.latencies, mine...)
			mu.Unlock()
		})
	}
	defer wg.Wait()
	defer stop.Store(true)

	time.Sleep(time.Second) // warm-up: connections, scripts loaded, first sessions
	stopProfile, err := profileCPU(o.cpuProfile)
	if err != nil {
		return window{}, err
	}
	before := snap()
	start := time.Now()
	measuring.Store(true)
	time.Sleep(o.duration)
	measuring.Store(false)
	w.elapsed = time.Since(start)
	w.counted = snap().sub(before)
	w.cpu, err = stopProfile(w.counted.cpu)
	if err != nil {
		return window{}, err
	}
	stop.Store(true)
	wg.Wait()
	w.failures, w.answered = failures.Load(), int(answered.Load())
	if len(w.latencies) == 0 {
		return window{}, errors.New("no message was answered")
	}
	return w, nil
}
