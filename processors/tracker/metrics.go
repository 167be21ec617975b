package tracker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the group's Prometheus series.
type Metrics struct {
	events   prometheus.Counter
	badInput prometheus.Counter
	replayed *prometheus.CounterVec
	alerts   *prometheus.CounterVec
}

// RegisterLag adds a gauge of the records the group has not committed
// (input and loopback), computed at each scrape.
func (t *Tracker) RegisterLag(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_process_lag_records", Help: "ssh-log and loopback records the group has not committed."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			lag, err := t.Lag(ctx)
			if err != nil {
				return -1
			}
			return float64(lag)
		}))
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
