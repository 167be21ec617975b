package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/health"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/telemetry"
)

// component is one long-running piece of log_monitor: a subcommand (a
// part: ingest, process, index, ...) runs one or a few, `logmon all` runs
// every part in one process.
type component struct {
	name string
	// part is the subcommand the component belongs to: its heartbeat's
	// component name (set by runComponents, or by `logmon all` per part).
	part string
	run  func(ctx context.Context) error
	// ready reports why the component cannot serve yet (nil: ready, or no
	// notion of readiness); /readyz answers 503 while any is not ready.
	ready func() error
}

// partProgress names the counters whose growth is each part's progress in
// its heartbeat (a part not listed reports none).
var partProgress = map[string][]string{
	"ingest":  {"logmon_ingest_events_acked_total"},
	"agent":   {"logmon_agent_sent_total"},
	"process": {"logmon_process_events_total", "logmon_hosts_samples_total", "logmon_incidents_alerts_total"},
	"index":   {"logmon_index_docs_total"},
	"notify":  {"logmon_notify_mails_sent_total"},
	"report":  {"logmon_report_mails_total"},
}

// partStats are the counters a part's heartbeat carries for the status.
func partStats(part string, g prometheus.Gatherer) func() map[string]float64 {
	var stats map[string]func() float64
	switch part {
	case "notify", "report":
		stats = map[string]func() float64{
			contracts.StatMailsSent:     health.Sum(g, "logmon_notify_mails_sent_total"),
			contracts.StatMailsFailed:   health.Sum(g, "logmon_notify_send_failures_total"),
			contracts.StatReportsSent:   health.SumWhere(g, "logmon_report_mails_total", "status", "sent"),
			contracts.StatReportsFailed: health.SumWhere(g, "logmon_report_mails_total", "status", "failed"),
			contracts.StatLastReportDay: health.Sum(g, "logmon_report_last_day_seconds"),
		}
	case "process":
		stats = map[string]func() float64{
			contracts.StatHostsReporting:   health.Sum(g, "logmon_hosts"),
			contracts.StatHostsSilent:      health.SumWhere(g, "logmon_hosts", "state", "silent"),
			contracts.StatHostsWarning:     health.SumWhere(g, "logmon_hosts", "state", "warning"),
			contracts.StatHostsCritical:    health.SumWhere(g, "logmon_hosts", "state", "critical"),
			contracts.StatProcessMisplaced: health.Sum(g, "logmon_process_misplaced_total"),
		}
	case "index":
		stats = map[string]func() float64{contracts.StatIndexRejected: health.Sum(g, "logmon_index_rejected_total")}
	case "agent":
		stats = map[string]func() float64{
			contracts.StatAgentSpooled:    health.Sum(g, "logmon_agent_spooled"),
			contracts.StatAgentSpoolDrops: health.Sum(g, "logmon_agent_dropped_total"),
		}
	default:
		return nil
	}
	return func() map[string]float64 {
		out := make(map[string]float64, len(stats))
		for k, f := range stats {
			out[k] = f()
		}
		return out
	}
}

// readyWhen is a component's readiness from a Ready method: not ready
// yet says why.
func readyWhen(v interface{ Ready() bool }, why string) func() error {
	return func() error {
		if !v.Ready() {
			return errors.New(why)
		}
		return nil
	}
}

// serve runs the components, their heartbeats and /metrics, /healthz and
// /readyz until ctx ends or one of them stops (with an error, or done as in
// a one-shot replay): then the others are stopped too. Every part is ready
// only while Kafka answers.
func serve(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger, comps ...component) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range comps {
		g.Go(func() error {
			defer cancel()
			if err := c.run(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			return nil
		})
	}
	kafka := health.KafkaProbe(cfg.Kafka.Brokers)
	ready := func(part string) func() error {
		return func() error {
			errs := []error{kafka()}
			for _, c := range comps {
				if c.ready != nil && (part == "" || c.part == part) {
					if err := c.ready(); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
					}
				}
			}
			return errors.Join(errs...)
		}
	}
	pub := &health.Publisher{Kafka: cfg.Kafka, Topic: cfg.Health.Topic, Instance: cfg.Health.Instance,
		Version: buildVersion(), Interval: cfg.Health.Interval, Log: log}
	for _, part := range parts(comps) {
		pub.Sources = append(pub.Sources, health.Source{Component: part, Ready: ready(part),
			Progress: health.Sum(reg, partProgress[part]...), Stats: partStats(part, reg)})
	}
	// The heartbeats stop with the components (their context), not before.
	hctx, stopHeartbeats := context.WithCancel(context.Background())
	hdone := make(chan struct{})
	go func() {
		defer close(hdone)
		_ = pub.Run(hctx)
	}()
	defer func() { stopHeartbeats(); <-hdone }()
	g.Go(func() error {
		return telemetry.Serve(gctx, cfg.MetricsAddr, reg, ready(""), log)
	})
	return g.Wait()
}

// parts lists the components' parts, in order, once each.
func parts(comps []component) []string {
	var out []string
	for _, c := range comps {
		if !slices.Contains(out, c.part) {
			out = append(out, c.part)
		}
	}
	return out
}

// buildVersion is the module version the binary was built from ("dev"
// for a build from a work tree).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// runComponents is the body of every long-running subcommand: load the
// settings, parse the flags (the Kafka and common ones, and what register
// adds), build the components and serve them with their heartbeats and
// /metrics, /healthz and /readyz.
func runComponents(ctx context.Context, name string, args []string,
	register func(fs *flag.FlagSet, cfg *config.Config),
	build func(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error),
) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterCommonFlags(fs)
	register(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	reg := telemetry.NewRegistry()
	comps, err := build(ctx, cfg, reg, log)
	if err != nil {
		return err
	}
	for i := range comps {
		if comps[i].part == "" {
			comps[i].part = name
		}
	}
	return serve(ctx, cfg, reg, log, comps...)
}
