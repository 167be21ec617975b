package tracker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the group's Prometheus series.
type Metrics struct {
	events   prometheus.Counter
	badInput prometheus.Counter
	replayed *prometheus.CounterVec
	alerts   *prometheus.CounterVec
}

// NewMetrics registers the group's series with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events:   prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_events_total", Help: "ssh-log events processed (replays included)."}),
		badInput: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_bad_input_total", Help: "ssh-log records that are not events, skipped."}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_replayed_total", Help: "Messages applied already (at-least-once replays), by state kind."}, []string{"state"}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_alerts_total", Help: "Alerts emitted (re-emissions after replays included), by rule."}, []string{"rule"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.badInput, m.replayed, m.alerts)
	}
	return m
}
