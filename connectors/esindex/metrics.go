package esindex

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the sink's Prometheus series. docs/s is
// rate(logmon_index_docs_total[1m]).
type Metrics struct {
	docs     *prometheus.CounterVec
	stale    prometheus.Counter
	expired  prometheus.Counter
	retries  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	lag      *prometheus.GaugeVec
	bulk     prometheus.Histogram
	up       prometheus.Gauge
	batch    prometheus.Histogram
}

// NewMetrics registers the sink's series with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		docs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_index_docs_total",
			Help: "Documents Elasticsearch acknowledged, by kind (events, alerts, metrics)."}, []string{"kind"}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_index_stale_total",
			Help: "metrics-daily records older than the version already indexed (replays), skipped."}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_index_expired_total",
			Help: "Records whose time-based index the retention deletes, dropped."}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_index_retries_total",
			Help: "Bulk retries: whole requests (transport, 429, 5xx, 4xx) and single items (item_429, item_5xx)."}, []string{"cause"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_index_rejected_total",
			Help: "Records refused for good and sent to the dead-letter topic, by kind."}, []string{"kind"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logmon_index_lag_records",
			Help: "Records of a partition not yet acknowledged by Elasticsearch and committed."}, []string{"topic", "partition"}),
		bulk: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logmon_index_bulk_seconds",
			Help: "Latency of one _bulk request.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "logmon_index_elasticsearch_up",
			Help: "1 while the last bulk request reached Elasticsearch, 0 while it fails."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logmon_index_batch_docs",
			Help: "Documents per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
	}
	for _, k := range []Kind{KindEvents, KindAlerts, KindMetrics, KindHosts, KindIncidents} { // series exist from the start
		m.docs.WithLabelValues(k.String())
		m.rejected.WithLabelValues(k.String())
	}
	for _, c := range []string{"transport", "429", "5xx", "4xx", "item_429", "item_5xx"} {
		m.retries.WithLabelValues(c)
	}
	if reg != nil {
		reg.MustRegister(m.docs, m.stale, m.expired, m.retries, m.rejected, m.lag, m.bulk, m.up, m.batch)
	}
	return m
}
