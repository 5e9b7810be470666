package bot

import "github.com/prometheus/client_golang/prometheus"

// metrics of the core. No label identifies a person: channel, language, tier, kind of error.
type metrics struct {
	in, out    *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	errors     *prometheus.CounterVec
	handoffs   *prometheus.CounterVec
	limited    *prometheus.CounterVec
	refused    *prometheus.CounterVec
	wipes      *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_messages_in_total",
			Help: "Messages handled, by channel and language."}, []string{"channel", "language"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_messages_out_total",
			Help: "Replies produced, by channel and language."}, []string{"channel", "language"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_duplicates_dropped_total",
			Help: "Redelivered messages recognised and not answered again."}, []string{"channel"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_errors_total",
			Help: "Failures while handling, by kind (redis, content, save, handoff, panic)."}, []string{"kind"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_handoffs_total",
			Help: "Handoffs to operators the flows asked for, by tier."}, []string{"tier"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_rate_limited_total",
			Help: "Messages over a conversation's limits, outside a case (one notice, then silence)."}, []string{"channel"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_intake_refused_total",
			Help: "Messages refused because their channel's intake for the second was spent (HTTP 503)."}, []string{"channel"}),
		wipes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_wipes_total",
			Help: "Conversations wiped, by /wipe, the quick exit or the automatic wipe."}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "faros_handle_seconds",
			Help:    "Time to handle one message, Redis included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, 1, 5}}, []string{"channel"}),
	}
	if reg != nil {
		reg.MustRegister(m.in, m.out, m.duplicates, m.errors, m.handoffs, m.limited, m.refused, m.wipes, m.latency)
	}
	return m
}
