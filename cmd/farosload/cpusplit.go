package main

// Faros' CPU apart from the load generator's. Both run in this process, so the measured window
// is profiled: the load generator's goroutines (and the fake Bot API's, which stands for
// Telegram) carry the pprof label side=load, Faros' side=faros, and the samples that carry
// neither are Go's runtime (the garbage collector's workers, the scheduler), which both share.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/google/pprof/profile"
)

// cpuSplit is a process' CPU time by side.
type cpuSplit struct{ faros, load, runtime time.Duration }

// per1000 is c spread over n messages, for 1,000 of them.
func (c cpuSplit) per1000(n int) cpuSplit {
	if n == 0 {
		return cpuSplit{}
	}
	per := func(d time.Duration) time.Duration { return d * 1000 / time.Duration(n) }
	return cpuSplit{faros: per(c.faros), load: per(c.load), runtime: per(c.runtime)}
}

// label marks this goroutine, and those it starts from now on, as side's: "faros" or "load".
func label(ctx context.Context, side string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("side", side)))
}

// profileCPU starts a CPU profile, and returns what stops it: that writes it to path (if not
// "") and splits total, the process' CPU time over the window, in the proportions of the
// profile's samples.
func profileCPU(path string) (stop func(total time.Duration) (cpuSplit, error), err error) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, err
	}
	return func(total time.Duration) (cpuSplit, error) {
		pprof.StopCPUProfile()
		if path != "" {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return cpuSplit{}, err
			}
		}
		p, err := profile.Parse(&buf)
		if err != nil {
			return cpuSplit{}, fmt.Errorf("read the cpu profile: %w", err)
		}
		return split(p, total), nil
	}, nil
}

// split shares total among the sides in the proportions of p's CPU time.
func split(p *profile.Profile, total time.Duration) cpuSplit {
	i := len(p.SampleType) - 1 // cpu, nanoseconds (after the count of samples)
	by := map[string]int64{}
	var all int64
	for _, s := range p.Sample {
		side := ""
		if l := s.Label["side"]; len(l) > 0 {
			side = l[0]
		}
		by[side] += s.Value[i]
		all += s.Value[i]
	}
	if all == 0 {
		return cpuSplit{}
	}
	part := func(n int64) time.Duration { return time.Duration(float64(total) * float64(n) / float64(all)) }
	return cpuSplit{faros: part(by["faros"]), load: part(by["load"]), runtime: part(by[""])}
}
