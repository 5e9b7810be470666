package deliver

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the queue, named after the channel (faros_telegram_sends_total). No label
// identifies a person.
type metrics struct {
	sends   prometheus.Counter
	flood   prometheus.Counter
	depth   prometheus.Gauge
	givenUp *prometheus.CounterVec
	// takenOver counts messages of a stopped instance that this one delivers.
	takenOver prometheus.Counter
}

func newMetrics(name, title string, reg prometheus.Registerer) (*metrics, error) {
	prefix := "faros_" + name + "_"
	m := &metrics{
		sends: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "sends_total",
			Help: "Messages " + title + " accepted."}),
		flood: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "429_total",
			Help: "Sends " + title + " refused with 429 Too Many Requests; they are sent again after retry_after."}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{Name: prefix + "queue_depth",
			Help: "Messages waiting in the outbound queue or being sent."}),
		givenUp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + "sends_given_up_total",
			Help: "Messages that will not be sent, by reason."}, []string{"reason"}),
		takenOver: prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "outbox_taken_over_total",
			Help: "Messages queued by an instance that stopped before sending them, taken over by this one."}),
	}
	// Every reason starts at zero, so that an alert on it does not wait for its first increment.
	for _, r := range []string{ReasonBlocked, ReasonRejected, reasonRetries, reasonShutdown, reasonClosed, reasonWiped} {
		m.givenUp.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, col := range []prometheus.Collector{m.sends, m.flood, m.depth, m.givenUp, m.takenOver} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
