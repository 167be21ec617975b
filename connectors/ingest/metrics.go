package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/connectors/tail"
)

// metrics are the pipeline's Prometheus series.
type metrics struct {
	lines, bytes, acked prometheus.Counter
	byType              *prometheus.CounterVec
	typeCounters        map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, t *tail.Tailer) metrics {
	m := metrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_lines_total", Help: "Lines read and queued for Kafka."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_bytes_total", Help: "File bytes read and queued for Kafka."}),
		acked: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_events_acked_total", Help: "Events Kafka acknowledged (acks=all)."}),
		byType: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_ingest_events_total", Help: "Parsed events by event_type."},
			[]string{"event_type"}),
		typeCounters: map[string]prometheus.Counter{},
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_lag_bytes", Help: "Bytes of the tailed files not yet acknowledged by Kafka."},
		func() float64 { return float64(t.Stats().Lag) })
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_inflight_chunks", Help: "Chunks sent to Kafka and not yet acknowledged."},
		func() float64 { return float64(t.Stats().Inflight) })
	files := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_files", Help: "Files being tailed."},
		func() float64 { return float64(len(t.Stats().Files)) })
	if reg != nil {
		reg.MustRegister(m.lines, m.bytes, m.acked, m.byType, lag, inflight, files)
	}
	return m
}

// countType counts one event of type t (called from the pipeline's one
// encoding goroutine).
func (m *metrics) countType(t string) {
	c, ok := m.typeCounters[t]
	if !ok {
		c = m.byType.WithLabelValues(t)
		m.typeCounters[t] = c
	}
	c.Inc()
}
