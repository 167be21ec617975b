package main

import (
	"context"
	"flag"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/topics"
)

// runSetup is the one-shot job of a new installation: Kafka topics and
// Elasticsearch index templates. Every component also does its own part at
// start-up; this makes an installation ready before any of them runs.
func runSetup(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterElasticFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	rf, err := topics.Ensure(ctx, cfg.Kafka, topics.Contract(), log)
	if err != nil {
		return err
	}
	log.Info("topics ready", "replication", rf)
	es, err := elastic.NewClient(cfg.Elastic)
	if err != nil {
		return err
	}
	if err := elastic.WaitReady(ctx, es); err != nil {
		return err
	}
	if err := elastic.EnsureTemplates(ctx, es); err != nil {
		return err
	}
	log.Info("index templates ready", "elasticsearch", cfg.Elastic.URLs)
	return importKibana(ctx, cfg.KibanaURL, log)
}
