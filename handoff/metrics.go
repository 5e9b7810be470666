package handoff

import "github.com/prometheus/client_golang/prometheus"

// metrics of the desk; no label identifies a person or an operator.
type metrics struct {
	opened      *prometheus.CounterVec
	waiting     prometheus.Gauge
	claimTime   prometheus.Histogram
	escalations prometheus.Counter
	closed      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_cases_opened_total",
			Help: "Cases opened, by tier."}, []string{"tier"}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "faros_cases_waiting",
			Help: "Cases open and not claimed yet."}),
		claimTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "faros_case_claim_seconds",
			Help: "Time from a case's opening to its claim.", Buckets: []float64{15, 30, 60, 120, 180, 300, 600, 1200, 3600}}),
		escalations: prometheus.NewCounter(prometheus.CounterOpts{Name: "faros_case_escalations_total",
			Help: "Escalation steps of unclaimed cases."}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_cases_closed_total",
			Help: "Cases closed, by outcome (person_left when the person stopped)."}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.opened, m.waiting, m.claimTime, m.escalations, m.closed)
	}
	return m
}
