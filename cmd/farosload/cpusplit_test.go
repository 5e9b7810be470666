package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestSplitSharesTheTotalAsTheSamplesDo(t *testing.T) {
	sample := func(side string, ns int64) *profile.Sample {
		s := &profile.Sample{Value: []int64{ns / 10_000_000, ns}}
		if side != "" {
			s.Label = map[string][]string{"side": {side}}
		}
		return s
	}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{sample("faros", 500e6), sample("load", 200e6), sample("faros", 100e6),
			sample("", 200e6)},
	}
	got := split(p, 2*time.Second)
	want := cpuSplit{faros: 1200 * time.Millisecond, load: 400 * time.Millisecond, runtime: 400 * time.Millisecond}
	if got != want {
		t.Errorf("got %+v; want %+v", got, want)
	}
	if got := split(&profile.Profile{SampleType: p.SampleType}, time.Second); got != (cpuSplit{}) {
		t.Errorf("no samples: got %+v; want nothing", got)
	}
}

// The goroutines a labelled one starts carry its label: the load generator's HTTP client
// works in goroutines net/http starts for it.
func TestLabelsFollowTheGoroutinesStarted(t *testing.T) {
	stop, err := profileCPU("")
	if err != nil {
		t.Fatal(err)
	}
	burn := func() {
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		}
	}
	done := make(chan struct{})
	go func() {
		label(context.Background(), "load")
		go func() { burn(); close(done) }()
	}()
	<-done
	s, err := stop(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.load < 800*time.Millisecond {
		t.Errorf("got %+v; want most of it the load's", s)
	}
}
