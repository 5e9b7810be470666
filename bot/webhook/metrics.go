package webhook

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the API or of the web chat. No label identifies a person.
type metrics struct {
	requests *prometheus.CounterVec // by status code
	pushes   *prometheus.CounterVec // replies of Send, by result
}

// newMetrics makes the metrics faros_<name>_requests_total and faros_<name>_pushes_total and
// registers them, with more, on reg unless it is nil.
func newMetrics(reg prometheus.Registerer, name string, more ...prometheus.Collector) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_" + name + "_requests_total",
			Help: "HTTP requests answered, by status code."}, []string{"status"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_" + name + "_pushes_total",
			Help: "Calls of Send, by result: delivered or failed."}, []string{"result"}),
	}
	// Both results start at zero, so that an alert on failures does not wait for the first.
	for _, r := range []string{"delivered", "failed"} {
		m.pushes.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, col := range append([]prometheus.Collector{m.requests, m.pushes}, more...) {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(status int) { m.requests.WithLabelValues(strconv.Itoa(status)).Inc() }

func (m *metrics) pushed(err error) {
	result := "delivered"
	if err != nil {
		result = "failed"
	}
	m.pushes.WithLabelValues(result).Inc()
}
