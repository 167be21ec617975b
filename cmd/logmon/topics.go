package main

import (
	"context"
	"flag"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/topics"
)

func runTopics(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("topics", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rf, err := topics.Ensure(ctx, cfg.Kafka, topics.Contract(), log)
	if err != nil {
		return err
	}
	log.Info("topics ready", "replication", rf, "brokers", cfg.Kafka.Brokers)
	return nil
}
