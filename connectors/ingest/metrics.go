package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/connectors/tail"
)

// metrics are the pipeline's Prometheus series.
type metrics struct {
	lines, bytes, acked prometheus.Counter
	committed, aborted  prometheus.Counter
	commitSeconds       prometheus.Histogram
	txnSeconds          prometheus.Histogram
	byType              *prometheus.CounterVec
	typeCounters        map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, stats func() tail.Stats) metrics {
	m := metrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_lines_total", Help: "Lines read and sent to Kafka (a line of an aborted transaction is read and sent again)."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_bytes_total", Help: "File bytes read and sent to Kafka."}),
		acked: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_events_acked_total", Help: "Events committed to Kafka (in committed transactions, acks=all)."}),
		committed: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_transactions_committed_total",
			Help: "Kafka transactions committed (lines and positions together)."}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_ingest_transactions_aborted_total",
			Help: "Kafka transactions that failed to commit (aborted, or their outcome unknown); the session starts again from the committed positions."}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logmon_ingest_commit_seconds",
			Help:    "Time from CommitTxn called (every record sent) to the commit acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		txnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logmon_ingest_transaction_seconds",
			Help:    "Time from a transaction's first line read to its commit acknowledged (what the transaction adds to a line's latency, at most).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		byType: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_ingest_events_total", Help: "Parsed events by event_type."},
			[]string{"event_type"}),
		typeCounters: map[string]prometheus.Counter{},
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_lag_bytes", Help: "Bytes of the tailed files not yet committed to Kafka."},
		func() float64 { return float64(stats().Lag) })
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_inflight_chunks", Help: "Chunks read and not yet committed."},
		func() float64 { return float64(stats().Inflight) })
	files := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_ingest_files", Help: "Files being tailed."},
		func() float64 { return float64(len(stats().Files)) })
	if reg != nil {
		reg.MustRegister(m.lines, m.bytes, m.acked, m.committed, m.aborted, m.commitSeconds, m.txnSeconds, m.byType, lag, inflight, files)
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
