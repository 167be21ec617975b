package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/report"
	"github.com/log-monitor/log_monitor/telemetry"
)

// runReport builds one day's report on demand with -date (printed, written
// with -out, mailed with -send); without -date it runs the daily schedule
// alone (`logmon notify` runs it too, beside the alert mailer: run the
// schedule in one process only).
func runReport(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterCommonFlags(fs)
	registerSMTPFlags(fs, &cfg)
	fs.Func("to", "report recipients, comma-separated (env "+config.EnvReportRecipients+")", func(s string) error {
		cfg.ReportRecipients = config.SplitList(s)
		return nil
	})
	fs.StringVar(&cfg.ReportTZ, "report-tz", cfg.ReportTZ, "time zone of the report's days and schedule (env "+config.EnvReportTZ+")")
	opts := registerReportFlags(fs, &cfg)
	date := fs.String("date", "", "build the report of this day (YYYY-MM-DD) now instead of running the schedule")
	send := fs.Bool("send", false, "with -date: mail the report to the recipients")
	out := fs.String("out", "", "with -date: write the HTML report to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	loc, err := cfg.ReportLocation()
	if err != nil {
		return err
	}
	src := report.KafkaSource{Kafka: cfg.Kafka, MetricsTopic: opts.metricsTopic, AlertsTopic: opts.alertsTopic, IncidentsTopic: opts.incidentsTopic}

	if *date != "" {
		rep, err := report.BuildDay(ctx, src, *date, loc, time.Now())
		if err != nil {
			return err
		}
		if *out != "" {
			if err := os.WriteFile(*out, []byte(rep.HTML), 0o644); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			log.Info("report written", "day", *date, "file", *out)
		}
		if *send {
			to, err := recipients(cfg.ReportRecipients, config.EnvReportRecipients, log)
			if err != nil {
				return err
			}
			sender, err := mail.New(cfg.SMTP, log)
			if err != nil {
				return err
			}
			if err := sender.Send(ctx, rep.Message(to)); err != nil {
				return fmt.Errorf("report %s: %w", *date, err)
			}
			log.Info("report sent", "day", *date, "to", to, "server", sender)
		}
		if *out == "" && !*send {
			fmt.Print(rep.Text)
		}
		return nil
	}
	if *send || *out != "" {
		return fmt.Errorf("report: -send and -out go with -date")
	}

	run, err := newReportRunner(cfg, opts, log)
	if err != nil {
		return err
	}
	reg := telemetry.NewRegistry()
	run.Metrics = report.NewMetrics(reg)
	return serve(ctx, cfg, reg, log, component{name: "daily report", part: "report", run: run.Run})
}

// reportOptions are the schedule's flags that are not config settings.
type reportOptions struct {
	state, metricsTopic, alertsTopic string
	incidentsTopic                   string
}

// registerReportFlags adds the daily report's flags (for `report` and for
// `notify`, which runs the schedule too).
func registerReportFlags(fs *flag.FlagSet, c *config.Config) *reportOptions {
	o := &reportOptions{}
	fs.StringVar(&c.Notify.ReportSchedule, "schedule", c.Notify.ReportSchedule, `when the daily report goes out, "minute hour * * *" in the report zone (env `+config.EnvReportSchedule+")")
	fs.DurationVar(&c.Notify.ReportRetryDelay, "retry-delay", c.Notify.ReportRetryDelay, "wait before the one retry of a failed report (env "+config.EnvReportRetryDelay+")")
	fs.StringVar(&o.state, "state", "", "file of the last day reported (default <data-dir>/report-state.json)")
	fs.StringVar(&o.metricsTopic, "metrics-topic", "", "metrics-daily topic (default metrics-daily)")
	fs.StringVar(&o.alertsTopic, "alerts-topic", "", "alert topic the report summarises (default ssh-alerts)")
	fs.StringVar(&o.incidentsTopic, "report-incidents-topic", "", "incident topic the report lists (default ssh-incidents)")
	return o
}

// newReportRunner is the daily report's scheduler as configured.
func newReportRunner(cfg config.Config, o *reportOptions, log *slog.Logger) (*report.Runner, error) {
	loc, err := cfg.ReportLocation()
	if err != nil {
		return nil, err
	}
	sched, err := report.ParseSchedule(cfg.Notify.ReportSchedule, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvReportSchedule, err)
	}
	to, err := recipients(cfg.ReportRecipients, config.EnvReportRecipients, log)
	if err != nil {
		return nil, err
	}
	sender, err := mail.New(cfg.SMTP, log)
	if err != nil {
		return nil, err
	}
	state := o.state
	if state == "" {
		state = filepath.Join(cfg.DataDir, "report-state.json")
	}
	src := report.KafkaSource{Kafka: cfg.Kafka, MetricsTopic: o.metricsTopic, AlertsTopic: o.alertsTopic, IncidentsTopic: o.incidentsTopic}
	return report.NewRunner(report.Config{Schedule: sched, RetryDelay: cfg.Notify.ReportRetryDelay, To: to, StatePath: state},
		src, sender, nil, log)
}
