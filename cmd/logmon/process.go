package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/daily"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/hoststage"
	"github.com/log-monitor/log_monitor/processors/incidentstage"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

// processOptions are `logmon process`'s own flags.
type processOptions struct {
	group, input, alerts, metricsTopic string
	hostsInput, incidents              string
	untilDone                          bool
	noPace                             bool
}

// registerProcessFlags adds the processing settings (also `logmon all`'s).
func registerProcessFlags(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.ReportTZ, "report-tz", cfg.ReportTZ, "time zone of metric_date (env "+config.EnvReportTZ+")")
	fs.StringVar(&cfg.RulesFile, "rules", cfg.RulesFile, "detection rules file, YAML or JSON (env "+config.EnvRulesFile+"; default the thresholds of docs/contracts.md)")
}

// runProcess runs the tracker group (per-IP, per-user and per-day state,
// alerts) and the metrics-daily emitter over its view.
func runProcess(ctx context.Context, args []string) error {
	o := &processOptions{}
	var cpuProfile, heapProfile string
	stopProfile := func() {}
	defer func() { stopProfile() }()
	return runComponents(ctx, "process", args, func(fs *flag.FlagSet, cfg *config.Config) {
		registerProcessFlags(fs, cfg)
		fs.StringVar(&o.group, "group", tracker.DefaultGroup, "goka group (tests and benchmarks use their own)")
		fs.StringVar(&o.input, "input", "", "input topic (default ssh-log)")
		fs.StringVar(&o.alerts, "alerts", "", "alert topic (default ssh-alerts)")
		fs.StringVar(&o.metricsTopic, "metrics-topic", "", "metrics-daily topic (default metrics-daily)")
		fs.StringVar(&o.hostsInput, "hosts-input", "", "host samples topic of the host stage (default system-metrics)")
		fs.StringVar(&o.incidents, "incidents", "", "incident topic of the incident stage (default ssh-incidents)")
		fs.BoolVar(&o.noPace, "no-pace", false, "user stage: do not merge the input partitions in event time: faster replays, but distributed_attack may miss attacks while partitions drift apart (docs/processors.md)")
		fs.BoolVar(&o.untilDone, "until-caught-up", false, "stop once everything in the input is processed and the day documents are sent (demo, replays)")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file (benchmarks)")
		fs.StringVar(&heapProfile, "heapprofile", "", "write a heap profile to this file every 2 s, the largest heap seen so far (benchmarks)")
	}, func(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		if cpuProfile != "" {
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return nil, err
			}
			stopProfile = stop
		}
		if heapProfile != "" {
			go writeHeapProfiles(ctx, heapProfile, 2*time.Second, log)
		}
		return buildProcess(ctx, cfg, o, reg, log)
	})
}

// buildProcess makes the tracker group, the day view and the metrics-daily
// emitter (and, with untilDone, the watcher that ends them when caught up).
func buildProcess(ctx context.Context, cfg config.Config, o *processOptions, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
	loc, err := cfg.ReportLocation()
	if err != nil {
		return nil, err
	}
	rules, err := detect.LoadRules(cfg.RulesFile)
	if err != nil {
		return nil, err
	}
	tr := tracker.New(tracker.Config{
		Kafka: cfg.Kafka, Group: o.group, Input: o.input, Alerts: o.alerts, Rules: rules, ReportLoc: loc,
		StorageDir: filepath.Join(cfg.DataDir, "process", o.group), NoPace: o.noPace,
	}, tracker.NewMetrics(reg), log)
	tr.RegisterLag(reg)
	// The view reads the group's table: create every topic first.
	if err := tr.EnsureTopics(ctx); err != nil {
		return nil, err
	}
	if o.metricsTopic != "" {
		if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: o.metricsTopic, Partitions: 1, Compacted: true}}, log); err != nil {
			return nil, err
		}
	}
	view, err := views.NewDayView(cfg.Kafka, o.group, log)
	if err != nil {
		return nil, err
	}
	em, err := daily.New(daily.Config{Kafka: cfg.Kafka, Topic: o.metricsTopic, Loc: loc,
		Lag: func() int64 { return tr.Backlog(ctx) }}, view, log)
	if err != nil {
		return nil, err
	}
	sshLog := o.input
	if sshLog == "" {
		sshLog = contracts.TopicSSHLog
	}
	hosts := hoststage.New(hoststage.Config{Kafka: cfg.Kafka, Group: hoststage.Group(o.group), Input: o.hostsInput,
		Activity: contracts.HostActivityTopic(sshLog), Alerts: o.alerts, Rules: rules, StorageDir: filepath.Join(cfg.DataDir, "process", hoststage.Group(o.group))},
		hoststage.NewMetrics(reg), log)
	settings, err := cfg.IncidentSettings()
	if err != nil {
		return nil, err
	}
	incidents := incidentstage.New(incidentstage.Config{Kafka: cfg.Kafka, Group: incidentstage.Group(o.group), Alerts: o.alerts,
		Incidents: o.incidents, Gap: settings.Gap, StorageDir: filepath.Join(cfg.DataDir, "process", incidentstage.Group(o.group))},
		incidentstage.NewMetrics(reg), log)
	comps := []component{
		{name: "tracker", run: func(ctx context.Context) error { return tr.Run(ctx) }},
		{name: "host stage", run: hosts.Run},
		{name: "incident stage", run: incidents.Run},
		{name: "day view", run: view.Run, ready: readyWhen(view, "day view recovering")},
		{name: "metrics-daily", run: em.Run},
	}
	if o.untilDone {
		comps = append(comps, component{name: "until caught up", run: func(ctx context.Context) error {
			if tr.WaitCaughtUp(ctx) != nil || view.WaitReady(ctx) != nil {
				return nil
			}
			time.Sleep(2 * time.Second) // the view follows the table topic
			if err := em.Tick(); err != nil {
				return err
			}
			log.Info("caught up: every input processed, day documents sent", "days", len(em.Documents()))
			return nil // ends the others
		}})
	}
	return comps, nil
}
