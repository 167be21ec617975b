package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/telemetry"
	"github.com/log-monitor/log_monitor/topics"
)

func runIngest(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterCommonFlags(fs)
	cfg.RegisterSourceFlags(fs)
	fs.Func("globs", "files to tail, comma-separated globs (env "+config.EnvIngestGlobs+`, default "/data/ssh-*.log")`, func(s string) error {
		cfg.Ingest.Globs = config.SplitList(s)
		return nil
	})
	fs.BoolVar(&cfg.Ingest.FromStart, "from-start", cfg.Ingest.FromStart, "read files the registry does not know from their beginning (default: from their end)")
	once := fs.Bool("once", false, "stop when every file is published to its end (replay), instead of following them")
	topic := fs.String("topic", topics.SSHLog, "Kafka topic (tests and benchmarks use their own)")
	registry := fs.String("registry", "", "tail registry file (default <data-dir>/ingest-registry.json)")
	resetRegistry := fs.Bool("reset-registry", false, "discard the tail registry (kept beside as .reset) and start over")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	loc, err := cfg.Ingest.Location()
	if err != nil {
		return err
	}
	if *registry == "" {
		*registry = filepath.Join(cfg.DataDir, "ingest-registry.json")
	}
	if err := ensureDir(filepath.Dir(*registry)); err != nil {
		return err
	}
	reg := telemetry.NewRegistry()
	p, err := ingest.New(ingest.Config{
		Kafka: cfg.Kafka,
		Tail: tail.Config{
			Globs:         cfg.Ingest.Globs,
			RegistryPath:  *registry,
			FromStart:     cfg.Ingest.FromStart,
			ResetRegistry: *resetRegistry,
		},
		Topic: *topic,
		Year:  cfg.Ingest.SourceYear,
		Loc:   loc,
		Once:  *once,
	}, reg, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if err := telemetry.Serve(ctx, cfg.MetricsAddr, reg, func() error { return nil }, log); err != nil {
			log.Error("metrics endpoint", "err", err)
		}
	}()
	start := time.Now()
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	log.Info("ingest done", "seconds", time.Since(start).Seconds())
	return nil
}
