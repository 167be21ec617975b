package stage

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
)

// Metrics are the Prometheus series of the two stages (one set for both).
type Metrics struct {
	events *prometheus.CounterVec
	// BadInput are ssh-log records that are not events.
	BadInput prometheus.Counter
	// Replayed are messages applied already, by state kind.
	Replayed *prometheus.CounterVec
	// Alerts are alerts emitted, by rule.
	Alerts *prometheus.CounterVec
	// Misplaced are ssh-log records not on their IP's partition, counted in
	// their day's totals only.
	Misplaced prometheus.Counter
	// PaceEscapes are waits of the event-time merge ended by its time limit.
	PaceEscapes prometheus.Counter
	// PaceWithheld are events the merge gave up on at a revocation, left to
	// the partition's next owner.
	PaceWithheld prometheus.Counter
	// eventsBy are the series of ssh-log's partitions, resolved once.
	eventsBy []prometheus.Counter
}

// Event counts one event of ssh-log partition p.
func (m *Metrics) Event(p int32) {
	if int(p) < len(m.eventsBy) {
		m.eventsBy[p].Inc()
		return
	}
	m.events.WithLabelValues(strconv.Itoa(int(p))).Inc()
}

// NewMetrics registers the group's series with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_events_total", Help: "ssh-log events processed (replays included), by ssh-log partition."}, []string{"partition"}),
		BadInput: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_bad_input_total", Help: "ssh-log records that are not events, skipped."}),
		Replayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_replayed_total", Help: "Messages applied already (at-least-once replays), by state kind."}, []string{"state"}),
		Alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_alerts_total", Help: "Alerts emitted (re-emissions after replays included), by rule."}, []string{"rule"}),
		Misplaced: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_misplaced_total",
			Help: "ssh-log records not on their IP's partition (a producer that does not partition by goka's hash of the IP): counted in their day's totals only."}),
		PaceEscapes: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_pace_escapes_total",
			Help: "Events routed after waiting the event-time merge's limit for a slower partition (distributed_attack may then see them out of order)."}),
		PaceWithheld: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_pace_withheld_total",
			Help: "Events that waited for the event-time merge when their partition was revoked: not routed, not committed, left to the partition's next owner."}),
	}
	// the default partition count's series; partitions beyond take the
	// label lookup at each event
	for p := range config.DefaultPartitions {
		m.eventsBy = append(m.eventsBy, m.events.WithLabelValues(strconv.Itoa(p)))
	}
	if reg != nil {
		reg.MustRegister(m.events, m.BadInput, m.Replayed, m.Alerts, m.Misplaced, m.PaceEscapes, m.PaceWithheld)
	}
	return m
}
