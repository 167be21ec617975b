package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/connectors/report"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/topics"
)

// registerSMTPFlags adds the outgoing mail flags. The password has no flag
// (it would show in `ps`): SMTP_PASSWORD or -smtp-password-file.
func registerSMTPFlags(fs *flag.FlagSet, c *config.Config) {
	fs.StringVar(&c.SMTP.Host, "smtp-host", c.SMTP.Host, "SMTP server host (env "+config.EnvSMTPHost+")")
	fs.IntVar(&c.SMTP.Port, "smtp-port", c.SMTP.Port, "SMTP server port (env "+config.EnvSMTPPort+")")
	fs.StringVar(&c.SMTP.User, "smtp-user", c.SMTP.User, "SMTP user; empty for no authentication (env "+config.EnvSMTPUser+")")
	fs.Func("smtp-password-file", "file holding the SMTP password (else env "+config.EnvSMTPPassword+")", func(p string) error {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("smtp password file: %w", err)
		}
		c.SMTP.Password = strings.TrimRight(string(b), "\r\n")
		return nil
	})
	fs.StringVar(&c.SMTP.From, "smtp-from", c.SMTP.From, "sender address (env "+config.EnvSMTPFrom+")")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", c.SMTP.TLS, "none, starttls (required) or tls (implicit, usually port 465) (env "+config.EnvSMTPTLS+")")
	fs.StringVar(&c.SMTP.CAFile, "smtp-ca-file", c.SMTP.CAFile, "PEM file of the CA that signed the SMTP server's certificate; empty = the system's (env "+config.EnvSMTPCAFile+")")
	fs.DurationVar(&c.SMTP.Timeout, "smtp-timeout", c.SMTP.Timeout, "connect and send timeout (env "+config.EnvSMTPTimeout+")")
}

// recipients checks a recipient list: invalid entries are logged with a
// clear error and left out; no valid one at all is an error.
func recipients(list []string, what string, log *slog.Logger) ([]string, error) {
	to, err := mail.ParseRecipients(list)
	if err != nil {
		log.Error("some recipients are not mail addresses; mailing the others", "recipients", what, "err", err, "valid", to)
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("%s: no valid recipient in %q", what, strings.Join(list, ","))
	}
	return to, nil
}

// notifyOptions are `logmon notify`'s own flags.
type notifyOptions struct {
	dailyReport          bool
	report               *reportOptions
	group, topic, ledger string
	// incidentMail mails the SSH rules per incident (from incidentsTopic).
	incidentMail   bool
	incidentsTopic string
}

// registerNotifyFlags adds the mailer's flags (also `logmon all`'s).
func registerNotifyFlags(fs *flag.FlagSet, cfg *config.Config) *notifyOptions {
	o := &notifyOptions{}
	registerSMTPFlags(fs, cfg)
	fs.Func("to", "alert recipients, comma-separated (env "+config.EnvAlertRecipients+", else "+config.EnvReportRecipients+")", func(s string) error {
		cfg.AlertRecipients = config.SplitList(s)
		return nil
	})
	fs.IntVar(&cfg.Notify.DigestAfter, "digest-after", cfg.Notify.DigestAfter, "more alerts than this waiting at once make one digest mail; 0 = one mail each (env "+config.EnvAlertDigestAfter+")")
	fs.DurationVar(&cfg.Notify.DigestWindow, "digest-window", cfg.Notify.DigestWindow, "how long alerts are gathered after the first before mailing (env "+config.EnvAlertDigestWindow+")")
	fs.StringVar(&cfg.API.PublicURL, "api-url", cfg.API.PublicURL, "public REST API address, for links (env "+config.EnvAPIPublicURL+")")
	fs.StringVar(&cfg.KibanaURL, "kibana-url", cfg.KibanaURL, "Kibana address, for links (env "+config.EnvKibanaURL+")")
	fs.BoolVar(&o.dailyReport, "daily-report", true, "also send the daily report on its schedule (as `logmon report` does)")
	fs.BoolVar(&o.incidentMail, "incident-mail", true, "mail the SSH rules per incident, one thread each (false: one mail per alert, as before incidents)")
	fs.StringVar(&o.incidentsTopic, "incidents-topic", contracts.TopicSSHIncidents, "incident topic")
	o.report = registerReportFlags(fs, cfg)
	return o
}

// runNotify mails the alerts of ssh-alerts and, unless -daily-report=false,
// sends the daily report on its schedule.
func runNotify(ctx context.Context, args []string) error {
	var o *notifyOptions
	return runComponents(ctx, "notify", args, func(fs *flag.FlagSet, cfg *config.Config) {
		fs.StringVar(&cfg.ReportTZ, "report-tz", cfg.ReportTZ, "time zone of the times in mails (env "+config.EnvReportTZ+")")
		o = registerNotifyFlags(fs, cfg)
		fs.StringVar(&o.group, "group", notify.DefaultGroup, "consumer group (tests use their own)")
		fs.StringVar(&o.topic, "topic", contracts.TopicSSHAlerts, "alert topic")
		fs.StringVar(&o.ledger, "ledger", "", "file of mailed alert ids (default <data-dir>/notify/sent-alerts.log)")
	}, func(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		return buildNotify(ctx, cfg, o, reg, log)
	})
}

// buildNotify makes the alert mailer and, with dailyReport, the report's
// schedule.
func buildNotify(ctx context.Context, cfg config.Config, o *notifyOptions, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
	loc, err := cfg.ReportLocation()
	if err != nil {
		return nil, err
	}
	if o.group == "" {
		o.group = notify.DefaultGroup
	}
	if o.topic == "" {
		o.topic = contracts.TopicSSHAlerts
	}
	list := cfg.AlertRecipients
	if len(list) == 0 {
		list = cfg.ReportRecipients
	}
	to, err := recipients(list, config.EnvAlertRecipients, log)
	if err != nil {
		return nil, err
	}
	if o.ledger == "" {
		o.ledger = filepath.Join(cfg.DataDir, "notify", "sent-alerts.log")
	}
	sender, err := mail.New(cfg.SMTP, log)
	if err != nil {
		return nil, err
	}
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: o.topic}}, log); err != nil {
		return nil, err
	}
	nc := notify.Config{Kafka: cfg.Kafka, Topic: o.topic, Group: o.group, To: to,
		DigestAfter: cfg.Notify.DigestAfter, DigestWindow: cfg.Notify.DigestWindow, LedgerPath: o.ledger,
		Links: notify.Links{API: cfg.API.PublicURL, Kibana: cfg.KibanaURL}, Loc: loc}
	if o.incidentMail {
		settings, err := cfg.IncidentSettings()
		if err != nil {
			return nil, err
		}
		nc.Incidents = &notify.IncidentConfig{Topic: o.incidentsTopic, Group: o.group + "-incidents", Settings: settings}
		if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: o.incidentsTopic}}, log); err != nil {
			return nil, err
		}
	}
	n, err := notify.New(nc, sender, notify.NewMetrics(reg), log)
	if err != nil {
		return nil, err
	}
	log.Info("smtp", "server", sender)
	comps := []component{{name: "notify", run: n.Run}}
	if o.dailyReport {
		run, err := newReportRunner(cfg, o.report, log)
		if err != nil {
			return nil, fmt.Errorf("daily report (-daily-report=false to run without it): %w", err)
		}
		run.Metrics = report.NewMetrics(reg)
		comps = append(comps, component{name: "daily report", run: run.Run})
	}
	return comps, nil
}
