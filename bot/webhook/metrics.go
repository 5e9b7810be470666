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
	refused  *prometheus.CounterVec // requests refused by a limit or check, by reason; nil: none counted
}

// Results of Send, the values of the label result of faros_<name>_pushes_total.
const (
	pushDelivered = "delivered" // to the receiver (the callback, or a page that is open)
	pushStored    = "stored"    // kept in the inbox for a page that is not open now (bot.ErrAway)
	pushFailed    = "failed"
)

// Reasons for refusing a web chat request, the values of the label reason of
// faros_webchat_refused_total.
const (
	refusedSource        = "source"         // a client address started too many conversations (429)
	refusedSourceVital   = "source_vital"   // and this message was vital: answered with the numbers (200), not handled
	refusedSourceRate    = "source_rate"    // a client address sent too many messages of live conversations (429)
	refusedSourceStreams = "source_streams" // a client address holds too many event streams (429)
	refusedStreams       = "streams"        // all event streams together are at their cap (503)
	refusedNotLive       = "not_live"       // an event stream for a conversation that does not exist (404)
	refusedCrossOrigin   = "cross_origin"   // a browser's request from another site (403)
	refusedOverloaded    = "overloaded"     // the bot's intake for this second is spent (503)
)

// newMetrics makes the metrics faros_<name>_requests_total and faros_<name>_pushes_total (its
// results starting at zero), faros_<name>_refused_total if reasons are given, and registers
// them, with more, on reg unless it is nil.
func newMetrics(reg prometheus.Registerer, name string, results, reasons []string, more ...prometheus.Collector) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_" + name + "_requests_total",
			Help: "HTTP requests answered, by status code."}, []string{"status"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_" + name + "_pushes_total",
			Help: "Calls of Send, by result."}, []string{"result"}),
	}
	// Every result and reason starts at zero, so that an alert on one does not wait for the first.
	for _, r := range results {
		m.pushes.WithLabelValues(r)
	}
	collectors := []prometheus.Collector{m.requests, m.pushes}
	if len(reasons) > 0 {
		m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faros_" + name + "_refused_total",
			Help: "Requests refused by a limit or a check, by reason."}, []string{"reason"})
		for _, r := range reasons {
			m.refused.WithLabelValues(r)
		}
		collectors = append(collectors, m.refused)
	}
	if reg == nil {
		return m, nil
	}
	for _, col := range append(collectors, more...) {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(status int) { m.requests.WithLabelValues(strconv.Itoa(status)).Inc() }

func (m *metrics) pushed(result string) { m.pushes.WithLabelValues(result).Inc() }

// refuse counts a refusal for reason and returns err.
func (m *metrics) refuse(reason string, err error) error {
	m.count(reason)
	return err
}

// count counts a refusal for reason.
func (m *metrics) count(reason string) {
	if m.refused != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}
