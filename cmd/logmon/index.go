package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/esindex"
	"github.com/log-monitor/log_monitor/connectors/health"
	"github.com/log-monitor/log_monitor/kibana"
)

// registerIndexFlags adds the index layout flags (also `logmon all`'s).
func registerIndexFlags(fs *flag.FlagSet, cfg *config.Config) {
	cfg.RegisterElasticFlags(fs)
	fs.StringVar(&cfg.Elastic.IndexLayout, "index-layout", cfg.Elastic.IndexLayout, "single (one index per name), daily or monthly (time-based indices behind the names as aliases) (env "+config.EnvElasticIndexLayout+")")
	fs.IntVar(&cfg.Elastic.RetentionDays, "retention-days", cfg.Elastic.RetentionDays, "delete time-based indices older than this many days, 0 = keep (env "+config.EnvElasticRetentionDays+")")
}

// runIndex runs the Elasticsearch sink: ssh-log, ssh-alerts and
// metrics-daily into their indices, offsets committed after Elasticsearch
// acknowledged.
func runIndex(ctx context.Context, args []string) error {
	var sc esindex.Config
	return runComponents(ctx, "index", args, func(fs *flag.FlagSet, cfg *config.Config) {
		registerIndexFlags(fs, cfg)
		fs.StringVar(&sc.Group, "group", esindex.DefaultGroup, "Kafka consumer group (tests and benchmarks use their own)")
		fs.StringVar(&sc.EventsTopic, "events-topic", "", "events topic (default ssh-log)")
		fs.StringVar(&sc.AlertsTopic, "alerts-topic", "", "alerts topic (default ssh-alerts)")
		fs.StringVar(&sc.MetricsTopic, "metrics-topic", "", "metrics topic (default metrics-daily)")
		fs.StringVar(&sc.HostsTopic, "hosts-topic", "", "host samples topic (default system-metrics)")
		fs.StringVar(&sc.IncidentsTopic, "incidents-topic", "", "incidents topic (default ssh-incidents)")
		fs.StringVar(&sc.DLQTopic, "dlq-topic", "", "dead-letter topic (default ssh-log-dlq)")
		fs.StringVar(&sc.IndexSuffix, "index-suffix", "", "write <name>-<suffix> instead of the contract's index names (tests, benchmarks)")
		fs.IntVar(&sc.BatchDocs, "batch-docs", 5000, "documents per bulk request at most")
		fs.IntVar(&sc.BatchBytes, "batch-bytes", 8<<20, "bytes per bulk request at most")
		fs.DurationVar(&sc.FlushInterval, "flush-interval", 0, "send a partial batch after this long (default 500ms)")
	}, func(_ context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		c, err := buildIndex(cfg, sc, reg, log)
		return []component{c}, err
	})
}

// buildIndex makes the Elasticsearch sink.
func buildIndex(cfg config.Config, sc esindex.Config, reg prometheus.Registerer, log *slog.Logger) (component, error) {
	sc.Kafka, sc.Elastic = cfg.Kafka, cfg.Elastic
	sink, err := esindex.New(sc, esindex.NewMetrics(reg), log)
	if err != nil {
		return component{}, fmt.Errorf("index: %w", err)
	}
	consuming, es := readyWhen(sink, "not consuming yet"), health.ElasticProbe(cfg.Elastic)
	return component{name: "index", run: sink.Run, ready: func() error { return errors.Join(es(), consuming()) }}, nil
}

// importKibana imports the saved objects (data views, dashboard) into the
// Kibana at url; an unreachable Kibana is skipped with a log line, so the
// setup job works where Kibana does not run (CI, this repository's stack).
func importKibana(ctx context.Context, url string, log *slog.Logger) error {
	if url == "" {
		log.Info("KIBANA_URL empty: Kibana saved objects not imported")
		return nil
	}
	res, err := kibana.Import(ctx, nil, url)
	if errors.Is(err, kibana.ErrUnreachable) {
		log.Info("Kibana unreachable: saved objects not imported; run `logmon setup` again once Kibana runs", "kibana", url, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	log.Info("Kibana saved objects imported", "kibana", url, "objects", res.SuccessCount)
	return nil
}
