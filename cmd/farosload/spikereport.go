package main

// What the spike measures and reports: the queue and Redis each second, the drain after the
// window, the figures (first reply, screening steps, emergency word) and the printed table or
// JSON.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// sendingOrder is what bot/deliver's pacer does today, said in the report.
const sendingOrder = "urgent messages first; then, among the chats whose 1.1 s gap has passed, " +
	"the chat served longest ago (a chat new to the queue has not been served: every person's first reply " +
	"goes before anyone's second), then the chat whose next message was queued earliest"

type sample struct {
	At        float64 `json:"at_s"`
	Depth     float64 `json:"queue_depth"`
	UsedBytes int64   `json:"redis_used_memory"`
	Accepted  int64   `json:"accepted"`
	Limited   int     `json:"429s"`
}

type delays struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_s"`
	P95 float64 `json:"p95_s"`
	P99 float64 `json:"p99_s"`
	Max float64 `json:"max_s"`
}

func summarize(ds []time.Duration) delays {
	if len(ds) == 0 {
		return delays{}
	}
	slices.Sort(ds)
	p := func(q float64) float64 { return ds[min(len(ds)-1, int(q*float64(len(ds))))].Seconds() }
	return delays{N: len(ds), P50: p(.50), P95: p(.95), P99: p(.99), Max: ds[len(ds)-1].Seconds()}
}

// callCounts counts the fake Bot API's message calls by method and outcome.
type callCounts struct {
	mu sync.Mutex
	m  map[string]*methodCalls
}

// methodCalls is what became of one method's calls.
type methodCalls struct {
	Accepted int `json:"accepted"`
	Limited  int `json:"429s"`
	Refused  int `json:"refused"` // any other error, such as an edit refused (then sent as a new message)
}

func (c *callCounts) add(method string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*methodCalls{}
	}
	mc := c.m[method]
	if mc == nil {
		mc = &methodCalls{}
		c.m[method] = mc
	}
	switch status {
	case http.StatusOK:
		mc.Accepted++
	case http.StatusTooManyRequests:
		mc.Limited++
	default:
		mc.Refused++
	}
}

func (c *callCounts) snapshot() map[string]methodCalls {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]methodCalls, len(c.m))
	for k, v := range c.m {
		out[k] = *v
	}
	return out
}

type spikeReport struct {
	People       int                    `json:"people"`
	Window       string                 `json:"window"`
	Screeners    int                    `json:"screeners"`
	Emergencies  int                    `json:"emergencies"`
	Redis        string                 `json:"redis"`
	Order        string                 `json:"sending_order"`
	FirstReply   delays                 `json:"first_reply"`
	ByTenth      []delays               `json:"first_reply_by_tenth_of_window"`
	StepReply    delays                 `json:"screening_step_reply"`
	Emergency    delays                 `json:"emergency_reply"`
	Lost         int                    `json:"lost"`
	Stuck        int                    `json:"screenings_stuck"` // a reply not received by the end, or not the one expected
	Completed    int                    `json:"screenings_completed"`
	Fake429      int                    `json:"fake_429s"`
	Faros429     float64                `json:"faros_429_total"`
	Accepted     int64                  `json:"messages_accepted"` // sent, copied or edited in place
	Calls        map[string]methodCalls `json:"calls_by_method"`
	EditAnswers  bool                   `json:"edit_answers"`
	OnScreen     float64                `json:"messages_on_screen_per_person"`   // the bot's, at the end
	OnScreenScr  float64                `json:"messages_on_screen_per_screener"` // of those who went through the screening
	PostFailures int64                  `json:"webhook_failures"`
	DepthP50     float64                `json:"queue_depth_p50"`
	DepthMax     float64                `json:"queue_depth_max"`
	LeftQueued   float64                `json:"left_queued_at_end"`
	MemStart     int64                  `json:"redis_used_memory_start"`
	MemMax       int64                  `json:"redis_used_memory_max"`
	MemEnd       int64                  `json:"redis_used_memory_end"`
	Duration     float64                `json:"duration_s"`
	Drained      bool                   `json:"drained"`
	Samples      []sample               `json:"samples"`
}

// sampleEachSecond records the queue's depth, Redis' memory, the messages accepted and the 429s
// every second, until stop, which takes a last sample for the end's figures and returns it.
func (r *spikeRun) sampleEachSecond(ctx context.Context, rdb *redis.Client) (stop func() sample) {
	take := func() sample {
		s := sample{At: time.Since(r.start).Seconds(), Depth: metric(r.reg, "faros_telegram_queue_depth"),
			UsedBytes: usedMemory(ctx, rdb), Accepted: r.accepted.Load(), Limited: r.fake.Limited()}
		r.samplesMu.Lock()
		r.rep.Samples = append(r.rep.Samples, s)
		r.samplesMu.Unlock()
		return s
	}
	sampling, stopSampling := context.WithCancel(ctx)
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sampling.Done():
				return
			case <-t.C:
				take()
			}
		}
	})
	return func() sample {
		stopSampling()
		sampler.Wait()
		return take()
	}
}

// waitForDrain sleeps through the window, then waits until everyone had a first reply, the
// screenings are done and the queue is empty (drained: true), or until the drain's deadline.
func (r *spikeRun) waitForDrain() (drained bool) {
	time.Sleep(r.cfg.window)
	screeningsDone := make(chan struct{})
	go func() { r.screenings.Wait(); close(screeningsDone) }()
	for {
		finished := false
		select {
		case <-screeningsDone:
			finished = true
		default:
		}
		if r.answered() == len(r.list) && finished && metric(r.reg, "faros_telegram_queue_depth") == 0 {
			return true
		}
		if time.Now().After(r.drainDeadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// answered is how many people have had a first reply.
func (r *spikeRun) answered() int {
	n := 0
	for _, p := range r.list {
		p.mu.Lock()
		if !p.first.IsZero() {
			n++
		}
		p.mu.Unlock()
	}
	return n
}

// metric is the value of a gauge or counter without labels in reg; 0 if none.
func metric(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
	}
	return 0
}

// usedMemory is Redis' used_memory (INFO memory), in bytes.
func usedMemory(ctx context.Context, rdb *redis.Client) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// record adds a screener's reply delay to ds (r.stepDelays or r.emerg).
func (r *spikeRun) record(ds *[]time.Duration, d time.Duration) {
	r.mu.Lock()
	*ds = append(*ds, d)
	r.mu.Unlock()
}

func (r *spikeRun) countStuck() {
	r.mu.Lock()
	r.stuck++
	r.mu.Unlock()
}

// collect fills the report's figures once the run is over; last is the sampler's last sample.
// First replies are also split by the tenth of the window in which /start was sent, to show how
// the wait grows as the queue fills.
func (r *spikeRun) collect(last sample) {
	rep := r.rep
	rep.Duration = time.Since(r.start).Seconds()
	rep.LeftQueued = last.Depth
	rep.MemEnd = last.UsedBytes
	var firsts []time.Duration
	tenths := make([][]time.Duration, 10)
	for _, p := range r.list {
		p.mu.Lock()
		sent, first := p.sent, p.first
		p.mu.Unlock()
		if first.IsZero() {
			rep.Lost++
			continue
		}
		d := first.Sub(sent)
		firsts = append(firsts, d)
		k := min(9, int(10*p.at/max(r.cfg.window, 1)))
		tenths[k] = append(tenths[k], d)
	}
	rep.FirstReply = summarize(firsts)
	for _, t := range tenths {
		rep.ByTenth = append(rep.ByTenth, summarize(t))
	}
	r.mu.Lock()
	rep.StepReply, rep.Emergency = summarize(r.stepDelays), summarize(r.emerg)
	rep.Stuck, rep.Completed = r.stuck, r.completed
	r.mu.Unlock()
	rep.Fake429 = r.fake.Limited()
	rep.Faros429 = metric(r.reg, "faros_telegram_429_total")
	rep.Accepted = r.accepted.Load()
	rep.Calls = r.calls.snapshot()
	rep.EditAnswers = r.cfg.edit
	rep.OnScreen, rep.OnScreenScr = r.onScreen()
	rep.PostFailures = r.postFailures.Load()
	var depths []float64
	for _, s := range rep.Samples {
		depths = append(depths, s.Depth)
		rep.MemMax = max(rep.MemMax, s.UsedBytes)
	}
	if len(depths) > 0 {
		slices.Sort(depths)
		rep.DepthP50, rep.DepthMax = depths[len(depths)/2], depths[len(depths)-1]
	}
}

// onScreen is how many of the bot's messages each person's phone shows at the end, on
// average: for everyone, and for the screeners.
func (r *spikeRun) onScreen() (all, screeners float64) {
	var n, ns int
	for _, p := range r.list {
		shown := len(r.fake.Screen(p.chat))
		n += shown
		if p.screens {
			ns += shown
		}
	}
	return float64(n) / float64(max(len(r.list), 1)), float64(ns) / float64(max(r.rep.Screeners, 1))
}

// writeSpike prints the report as JSON (-json) or as the table.
func writeSpike(out io.Writer, rep *spikeReport, cfg *spikeConfig) error {
	if cfg.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printSpike(out, rep, cfg)
	return nil
}

func printSpike(out io.Writer, r *spikeReport, cfg *spikeConfig) {
	fmt.Fprintf(out, "farosload -spike: %d people send /start within %v; %d (%.0f%%) go through the screening at human speed (%v-%v a question), %d of them type %q\n",
		r.People, cfg.window, r.Screeners, 100*cfg.screen, cfg.think, 2*cfg.think, r.Emergencies, emergencyWord)
	fmt.Fprintf(out, "  fake Bot API: 30 sends/s overall, 1 s per chat, 429 with retry_after beyond; Faros' queue: 28/s, 1.1 s per chat; Redis %s\n", r.Redis)
	fmt.Fprintf(out, "  sending order (bot/deliver today): %s\n", r.Order)
	s := func(d delays) string {
		if d.N == 0 {
			return "none"
		}
		return fmt.Sprintf("p50 %.2fs  p95 %.2fs  p99 %.2fs  max %.2fs  (n %d)", d.P50, d.P95, d.P99, d.Max, d.N)
	}
	row := func(k, v string) { fmt.Fprintf(out, "  %-30s %s\n", k, v) }
	row("first reply after /start", s(r.FirstReply))
	for i, d := range r.ByTenth {
		lo, hi := cfg.window*time.Duration(i)/10, cfg.window*time.Duration(i+1)/10
		row(fmt.Sprintf("  /start in %.1fs-%.1fs", lo.Seconds(), hi.Seconds()), s(d))
	}
	row("screening step, first reply", s(r.StepReply))
	row("emergency word, first reply", s(r.Emergency)+"  (goal p99 ≤ 1 s)")
	row("lost (never a first reply)", fmt.Sprintf("%d of %d", r.Lost, r.People))
	row("screenings", fmt.Sprintf("%d completed, %d stuck (a reply not received by the end, or not the one expected), %d ended by the emergency word", r.Completed, r.Stuck, r.Emergency.N))
	row("429s", fmt.Sprintf("%d from the fake Bot API (Faros counted %.0f)", r.Fake429, r.Faros429))
	row("messages accepted", fmt.Sprintf("%d (%.1f per person; sent, copied or edited); webhook failures %d", r.Accepted, float64(r.Accepted)/float64(max(r.People, 1)), r.PostFailures))
	for _, m := range slices.Sorted(maps.Keys(r.Calls)) {
		c := r.Calls[m]
		row("  "+m, fmt.Sprintf("%d accepted, %d 429s, %d refused", c.Accepted, c.Limited, c.Refused))
	}
	row("messages on the phone", fmt.Sprintf("%.2f per person, %.2f per screener (answers in place: %v)", r.OnScreen, r.OnScreenScr, r.EditAnswers))
	row("queue depth (per second)", fmt.Sprintf("p50 %.0f  max %.0f  at the end %.0f", r.DepthP50, r.DepthMax, r.LeftQueued))
	row("redis used_memory", fmt.Sprintf("start %.1f MiB  max %.1f MiB  end %.1f MiB (the whole server's)", mib(r.MemStart), mib(r.MemMax), mib(r.MemEnd)))
	row("run", fmt.Sprintf("%.0f s (window %v, then the drain: %s)", r.Duration, cfg.window, map[bool]string{true: "drained", false: "cap reached"}[r.Drained]))
	// Queue depth and memory over time, at ten points.
	if n := len(r.Samples); n > 0 {
		fmt.Fprintf(out, "  over time:  %8s %8s %10s %10s %8s\n", "t", "depth", "redis MiB", "accepted", "429s")
		for i := range 11 {
			smp := r.Samples[min(n-1, i*(n-1)/10)]
			fmt.Fprintf(out, "              %7.0fs %8.0f %10.1f %10d %8d\n", smp.At, smp.Depth, mib(smp.UsedBytes), smp.Accepted, smp.Limited)
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
