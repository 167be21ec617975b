package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/connectors/esindex"
	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// allParts are the parts `logmon all` runs, in start order.
var allParts = []string{"ingest", "process", "index", "api", "notify", "watchdog"}

// runAll runs every long-running part of log_monitor in one process, for
// small installations: one binary, one /metrics, one data directory.
func runAll(ctx context.Context, args []string) error {
	var (
		ingestOpts   *ingestOptions
		notifyOpts   *notifyOptions
		statusOpts   statusOptions
		skip, prefix string
	)
	return runComponents(ctx, "all", args, func(fs *flag.FlagSet, cfg *config.Config) {
		ingestOpts = registerIngestFlags(fs, cfg)
		registerProcessFlags(fs, cfg)
		registerIndexFlags(fs, cfg)
		registerAPIFlags(fs, cfg)
		notifyOpts = registerNotifyFlags(fs, cfg)
		fs.DurationVar(&cfg.Health.StallWindow, "stall-window", cfg.Health.StallWindow, "how long lag must grow (or input wait unprocessed) before pipeline_stalled (env "+config.EnvStallWindow+")")
		fs.StringVar(&skip, "skip", "", "parts to leave out, comma-separated: "+strings.Join(allParts, ", "))
		fs.Func("name-prefix", "prefix of every topic (the heartbeats' too) and consumer group name, and suffix of the index names (tests; default the contract's names)", func(s string) error {
			prefix = s
			cfg.Health.Topic = s + cfg.Health.Topic // beside others: heartbeats of its own
			return nil
		})
	}, func(ctx context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		skipped := config.SplitList(skip)
		for _, s := range skipped {
			if !slices.Contains(allParts, s) {
				return nil, fmt.Errorf("all: -skip %q: not a part (%s)", s, strings.Join(allParts, ", "))
			}
		}
		if !slices.Contains(skipped, "notify") && len(cfg.AlertRecipients) == 0 && len(cfg.ReportRecipients) == 0 {
			log.Warn("no " + config.EnvAlertRecipients + " or " + config.EnvReportRecipients + ": running without notify (no alert mails, no daily report)")
			skipped = append(skipped, "notify")
		}
		// Names: the contract's, or each prefixed (tests run beside others).
		name := func(n string) string { return prefix + n }
		group := name(tracker.DefaultGroup)
		ingestOpts.topic = name(contracts.TopicSSHLog)
		notifyOpts.group, notifyOpts.topic = name(notify.DefaultGroup), name(contracts.TopicSSHAlerts)
		notifyOpts.incidentsTopic = name(contracts.TopicSSHIncidents)
		notifyOpts.report.metricsTopic, notifyOpts.report.alertsTopic = name(contracts.TopicMetricsDaily), name(contracts.TopicSSHAlerts)
		notifyOpts.report.incidentsTopic = name(contracts.TopicSSHIncidents)
		statusOpts = allStatusOptions(prefix)
		builders := map[string]func() ([]component, error){
			"ingest": func() ([]component, error) {
				c, err := buildIngest(cfg, ingestOpts, reg, log)
				return []component{c}, err
			},
			"process": func() ([]component, error) {
				return buildProcess(ctx, cfg, &processOptions{group: group, input: name(contracts.TopicSSHLog),
					alerts: name(contracts.TopicSSHAlerts), metricsTopic: name(contracts.TopicMetricsDaily),
					hostsInput: name(contracts.TopicSystemMetrics), incidents: name(contracts.TopicSSHIncidents)}, reg, log)
			},
			"index": func() ([]component, error) {
				c, err := buildIndex(cfg, esindex.Config{Group: name(esindex.DefaultGroup), EventsTopic: name(contracts.TopicSSHLog),
					AlertsTopic: name(contracts.TopicSSHAlerts), MetricsTopic: name(contracts.TopicMetricsDaily), DLQTopic: name(contracts.TopicSSHLogDLQ),
					HostsTopic: name(contracts.TopicSystemMetrics), IncidentsTopic: name(contracts.TopicSSHIncidents),
					IndexSuffix: strings.TrimSuffix(prefix, "-")}, reg, log)
				return []component{c}, err
			},
			"api": func() ([]component, error) {
				return buildAPI(ctx, cfg, &apiOptions{group: group, alerts: name(contracts.TopicSSHAlerts), incidents: name(contracts.TopicSSHIncidents),
					status: statusOpts, eventsIndex: elastic.Layout{Suffix: strings.TrimSuffix(prefix, "-")}.Alias(contracts.IndexSSHLog)}, reg, log)
			},
			"notify": func() ([]component, error) { return buildNotify(ctx, cfg, notifyOpts, reg, log) },
			"watchdog": func() ([]component, error) {
				c, err := buildWatchdog(cfg, statusOpts, log)
				return []component{c}, err
			},
		}
		var comps []component
		var running []string
		for _, part := range allParts {
			if slices.Contains(skipped, part) {
				continue
			}
			c, err := builders[part]()
			if err != nil {
				return nil, fmt.Errorf("all: %s: %w", part, err)
			}
			for i := range c {
				c[i].part = part
			}
			comps = append(comps, c...)
			running = append(running, part)
		}
		if len(comps) == 0 {
			return nil, fmt.Errorf("all: every part skipped")
		}
		log.Info("running", "parts", strings.Join(running, ","))
		return comps, nil
	})
}

// allStatusOptions describe the pipeline `logmon all -name-prefix` runs: its
// groups, topics and indices (the contract's without a prefix).
func allStatusOptions(prefix string) statusOptions {
	o := statusOptions{groups: "logmon", alerts: prefix + contracts.TopicSSHAlerts, dlq: prefix + contracts.TopicSSHLogDLQ}
	suffix := ""
	if prefix != "" {
		o.groups = prefix
		suffix = "-" + strings.TrimSuffix(prefix, "-")
	}
	var idx []string
	for _, n := range []string{contracts.IndexSSHLog, contracts.IndexSSHAlerts, contracts.IndexSSHIncidents, contracts.IndexMetricsDaily, contracts.IndexSystemMetrics} {
		idx = append(idx, n+suffix)
	}
	o.indices = strings.Join(idx, ",")
	return o
}
