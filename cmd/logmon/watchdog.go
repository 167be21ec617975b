package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/health"
)

// runWatchdog raises the pipeline's alerts about itself.
func runWatchdog(ctx context.Context, args []string) error {
	var o statusOptions
	return runComponents(ctx, "watchdog", args, func(fs *flag.FlagSet, cfg *config.Config) {
		registerWatchdogFlags(fs, cfg, &o)
	}, func(_ context.Context, cfg config.Config, _ *prometheus.Registry, log *slog.Logger) ([]component, error) {
		c, err := buildWatchdog(cfg, o, log)
		return []component{c}, err
	})
}

func registerWatchdogFlags(fs *flag.FlagSet, cfg *config.Config, o *statusOptions) {
	cfg.RegisterElasticFlags(fs)
	registerStatusFlags(fs, o)
	fs.DurationVar(&cfg.Health.StallWindow, "stall-window", cfg.Health.StallWindow, "how long lag must grow (or input wait unprocessed) before pipeline_stalled (env "+config.EnvStallWindow+")")
}

// buildWatchdog makes the watchdog over the pipeline o describes.
func buildWatchdog(cfg config.Config, o statusOptions, log *slog.Logger) (component, error) {
	c, err := newCollector(cfg, o, log)
	if err != nil {
		return component{}, err
	}
	w := health.NewWatchdog(health.WatchdogConfig{Kafka: cfg.Kafka, AlertsTopic: o.alerts, Interval: cfg.Health.Interval}, c, log)
	return component{name: "watchdog", run: w.Run}, nil
}
