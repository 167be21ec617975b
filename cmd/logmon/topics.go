package main

import (
	"context"
	"flag"
	"fmt"
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
	list := fs.Bool("list", false, "also print each topic's partitions and record count")
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
	if !*list {
		return nil
	}
	names := make([]string, 0, 4)
	for _, s := range topics.Contract() {
		names = append(names, s.Name)
	}
	sizes, err := topics.Sizes(ctx, cfg.Kafka, names)
	if err != nil {
		return err
	}
	for _, s := range sizes {
		fmt.Printf("%-16s partitions=%d records=%d\n", s.Topic, s.Partitions, s.Records)
	}
	return nil
}
