package tracker

import (
	"context"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/topics"
)

// Metrics are the group's Prometheus series.
type Metrics struct {
	events   *prometheus.CounterVec
	badInput prometheus.Counter
	replayed *prometheus.CounterVec
	alerts   *prometheus.CounterVec
	// paceEscapes are waits of the event-time merge ended by its time limit.
	paceEscapes prometheus.Counter
	// paceWithheld are events the merge gave up on at a revocation, left to
	// the partition's next owner.
	paceWithheld prometheus.Counter
	// eventsBy are the series of ssh-log's partitions, resolved once.
	eventsBy []prometheus.Counter
}

// RegisterLag adds, computed at each scrape, the records the group has not
// committed per topic partition (input and loopback) and the size of its
// local table storage.
func (t *Tracker) RegisterLag(reg prometheus.Registerer) {
	reg.MustRegister(&lagCollector{t: t,
		lag:  prometheus.NewDesc("logmon_process_lag_records", "Records of ssh-log and the loopbacks the two stages have not committed.", []string{"group", "topic", "partition"}, nil),
		disk: prometheus.NewDesc("logmon_process_storage_bytes", "Bytes of the group's local LevelDB table storage.", nil, nil),
	})
}

type lagCollector struct {
	t         *Tracker
	lag, disk *prometheus.Desc
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.lag; ch <- c.disk }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, g := range c.t.stages() {
		parts, err := topics.GroupLagByPartition(ctx, c.t.cfg.Kafka, g.group, []string{c.t.cfg.Input, g.loop})
		if err != nil {
			continue
		}
		for _, p := range parts {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(p.Lag), g.group, p.Topic, strconv.Itoa(int(p.Partition)))
		}
	}
	var size int64
	_ = filepath.WalkDir(c.t.cfg.StorageDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	ch <- prometheus.MustNewConstMetric(c.disk, prometheus.GaugeValue, float64(size))
}

// event counts one event of ssh-log partition p.
func (m *Metrics) event(p int32) {
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
		badInput: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_bad_input_total", Help: "ssh-log records that are not events, skipped."}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_replayed_total", Help: "Messages applied already (at-least-once replays), by state kind."}, []string{"state"}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_process_alerts_total", Help: "Alerts emitted (re-emissions after replays included), by rule."}, []string{"rule"}),
		paceEscapes: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_pace_escapes_total",
			Help: "Events routed after waiting the event-time merge's limit for a slower partition (distributed_attack may then see them out of order)."}),
		paceWithheld: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_process_pace_withheld_total",
			Help: "Events that waited for the event-time merge when their partition was revoked: not routed, not committed, left to the partition's next owner."}),
	}
	// the default partition count's series; partitions beyond take the
	// label lookup at each event
	for p := range config.DefaultPartitions {
		m.eventsBy = append(m.eventsBy, m.events.WithLabelValues(strconv.Itoa(p)))
	}
	if reg != nil {
		reg.MustRegister(m.events, m.badInput, m.replayed, m.alerts, m.paceEscapes, m.paceWithheld)
	}
	return m
}
