package notify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the mailer's /metrics.
type Metrics struct {
	Sent     *prometheus.CounterVec // mails accepted, by kind (alert, digest)
	Alerts   prometheus.Counter     // alerts carried by accepted mails
	Failures prometheus.Counter     // send attempts the server did not accept
	Retries  prometheus.Counter     // sends tried again after a failure
	Pending  prometheus.Gauge       // alerts received, not yet mailed and committed
	Skipped  *prometheus.CounterVec // alerts not mailed, by reason (duplicate, invalid)
	Rejected prometheus.Counter     // mails the server refused for some recipients for good
}

// NewMetrics creates the metrics and registers them with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_notify_mails_sent_total",
			Help: "Mails the SMTP server accepted, by kind (alert, digest)."}, []string{"kind"}),
		Alerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_notify_alerts_mailed_total",
			Help: "Alerts carried by accepted mails."}),
		Failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_notify_send_failures_total",
			Help: "Send attempts the SMTP server did not accept (down, timeout, rejected)."}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_notify_send_retries_total",
			Help: "Sends tried again after a failure."}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "logmon_notify_alerts_pending",
			Help: "Alerts received and not yet mailed and marked for commit."}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_notify_alerts_skipped_total",
			Help: "Alerts not mailed, by reason (duplicate: already mailed; invalid: not an alert)."}, []string{"reason"}),
		Rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_notify_recipients_rejected_total",
			Help: "Mails whose recipients the SMTP server refused for good, some or all (logged as errors)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Sent, m.Alerts, m.Failures, m.Retries, m.Pending, m.Skipped, m.Rejected)
	}
	return m
}
