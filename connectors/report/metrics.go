package report

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the daily report's /metrics.
type Metrics struct {
	Mails    *prometheus.CounterVec // mails accepted, by status (sent: the report; failed: the failure mail)
	Attempts prometheus.Counter     // report builds and sends tried
	LastDay  prometheus.Gauge       // the last day handled, as a Unix time (midnight UTC of that date)
}

// NewMetrics creates the metrics and registers them with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Mails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_report_mails_total",
			Help: "Daily report mails accepted, by status (sent: the report; failed: the failure mail after the retry)."}, []string{"status"}),
		Attempts: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_report_attempts_total",
			Help: "Daily report builds and sends tried."}),
		LastDay: prometheus.NewGauge(prometheus.GaugeOpts{Name: "logmon_report_last_day_seconds",
			Help: "The last report day handled (midnight UTC of that date, Unix seconds)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Mails, m.Attempts, m.LastDay)
	}
	return m
}
