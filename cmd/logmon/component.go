package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/telemetry"
)

// component is one long-running part of log_monitor: a subcommand runs
// one or a few, `logmon all` runs them all in one process.
type component struct {
	name string
	run  func(ctx context.Context) error
	// ready reports why the component cannot serve yet (nil: ready, or no
	// notion of readiness); /healthz answers 503 while any is not ready.
	ready func() error
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

// serve runs the components and /metrics + /healthz on addr until ctx ends
// or one of them stops (with an error, or done as in a one-shot replay):
// then the others are stopped too.
func serve(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger, comps ...component) error {
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
	g.Go(func() error {
		return telemetry.Serve(gctx, addr, reg, func() error {
			var errs []error
			for _, c := range comps {
				if c.ready == nil {
					continue
				}
				if err := c.ready(); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
				}
			}
			return errors.Join(errs...)
		}, log)
	})
	return g.Wait()
}

// runComponents is the body of every long-running subcommand: load the
// settings, parse the flags (the Kafka and common ones, and what register
// adds), build the components and serve them with /metrics and /healthz.
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
	return serve(ctx, cfg.MetricsAddr, reg, log, comps...)
}
