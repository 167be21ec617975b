package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
)

// ingestOptions are `logmon ingest`'s own flags.
type ingestOptions struct {
	topic, registry string
	once            bool
}

// registerIngestFlags adds the source flags of ingest (also `logmon all`'s).
func registerIngestFlags(fs *flag.FlagSet, cfg *config.Config) *ingestOptions {
	o := &ingestOptions{}
	cfg.RegisterSourceFlags(fs)
	fs.Func("globs", "files to tail, comma-separated globs (env "+config.EnvIngestGlobs+`, default "/data/ssh-*.log")`, func(s string) error {
		cfg.Ingest.Globs = config.SplitList(s)
		return nil
	})
	fs.BoolVar(&cfg.Ingest.FromStart, "from-start", cfg.Ingest.FromStart, "read files the registry does not know from their beginning (default: from their end)")
	fs.StringVar(&o.registry, "registry", "", "local tail registry of versions before the exactly-once ingest, read once when Kafka holds no positions of this instance (default <data-dir>/ingest-registry.json)")
	fs.StringVar(&cfg.Ingest.ID, "ingest-id", cfg.Ingest.ID, "this instance's identity: Kafka transactional id and key of its file positions (env "+config.EnvIngestID+"; default logmon-ingest-<host>-<hash of topic and globs>); a second instance with the same id takes over")
	fs.DurationVar(&cfg.Ingest.TxnTimeout, "txn-timeout", cfg.Ingest.TxnTimeout, "longest a Kafka transaction may stay open (env "+config.EnvIngestTxnTimeout+")")
	return o
}

func runIngest(ctx context.Context, args []string) error {
	var o *ingestOptions
	start := time.Now()
	err := runComponents(ctx, "ingest", args, func(fs *flag.FlagSet, cfg *config.Config) {
		o = registerIngestFlags(fs, cfg)
		fs.BoolVar(&o.once, "once", false, "stop when every file is published to its end (replay), instead of following them")
		fs.StringVar(&o.topic, "topic", contracts.TopicSSHLog, "Kafka topic (tests and benchmarks use their own)")
	}, func(_ context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		c, err := buildIngest(cfg, o, reg, log)
		return []component{c}, err
	})
	if err == nil {
		slog.Info("ingest done", "seconds", time.Since(start).Seconds())
	}
	return err
}

// buildIngest makes the tail -> parse -> publish pipeline.
func buildIngest(cfg config.Config, o *ingestOptions, reg prometheus.Registerer, log *slog.Logger) (component, error) {
	loc, err := cfg.Ingest.Location()
	if err != nil {
		return component{}, err
	}
	if o.registry == "" {
		o.registry = filepath.Join(cfg.DataDir, "ingest-registry.json")
	}
	p, err := ingest.New(ingest.Config{
		Kafka: cfg.Kafka,
		Tail: tail.Config{
			Globs:     cfg.Ingest.Globs,
			FromStart: cfg.Ingest.FromStart,
		},
		Topic:          o.topic,
		ID:             cfg.Ingest.ID,
		TxnTimeout:     cfg.Ingest.TxnTimeout,
		LegacyRegistry: o.registry,
		Year:           cfg.Ingest.SourceYear,
		Loc:            loc,
		Once:           o.once,
	}, reg, log)
	if err != nil {
		return component{}, fmt.Errorf("ingest: %w", err)
	}
	return component{name: "ingest", run: p.Run}, nil
}
