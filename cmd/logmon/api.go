package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/telemetry"
	"github.com/log-monitor/log_monitor/views"
)

// runAPI serves the gRPC + REST API over the tracker view and the alert
// view until ctx ends.
func runAPI(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("api", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterCommonFlags(fs)
	registerAPIFlags(fs, &cfg)
	group := fs.String("group", tracker.DefaultGroup, "goka group whose table the API reads (tests and benchmarks use their own)")
	alerts := fs.String("alerts", "", "alert topic (default ssh-alerts)")
	maxAlerts := fs.Int("max-alerts", views.DefaultMaxAlerts, "recent alerts kept in memory for listing and streaming")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	// The views read the group's table and the alert topic: make sure they exist.
	if err := tracker.New(tracker.Config{Kafka: cfg.Kafka, Group: *group, Alerts: *alerts}, nil, log).EnsureTopics(ctx); err != nil {
		return err
	}
	tv, err := views.NewTracker(cfg.Kafka, *group, filepath.Join(cfg.DataDir, "api", *group+"-view"), log)
	if err != nil {
		return err
	}
	av := views.NewAlerts(views.AlertsConfig{Kafka: cfg.Kafka, Topic: *alerts, MaxAlerts: *maxAlerts}, log)
	reg := telemetry.NewRegistry()
	srv, err := api.New(cfg, tv, av, reg, log)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return tv.Run(gctx) })
	g.Go(func() error { return av.Run(gctx) })
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error {
		return telemetry.Serve(gctx, cfg.MetricsAddr, reg, func() error {
			if !tv.Ready() || !av.Ready() {
				return errors.New("views recovering")
			}
			return nil
		}, log)
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// registerAPIFlags adds the API's flags. The token has none: a flag would
// show it in the process list; set API_TOKEN.
func registerAPIFlags(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.API.GRPCAddr, "grpc-addr", cfg.API.GRPCAddr, "gRPC address (env "+config.EnvAPIGRPCAddr+")")
	fs.StringVar(&cfg.API.HTTPAddr, "http-addr", cfg.API.HTTPAddr, "REST and /openapi.json address (env "+config.EnvAPIHTTPAddr+")")
	fs.StringVar(&cfg.API.TLSCert, "tls-cert", cfg.API.TLSCert, "PEM certificate: serve gRPC and REST over TLS (env "+config.EnvAPITLSCert+")")
	fs.StringVar(&cfg.API.TLSKey, "tls-key", cfg.API.TLSKey, "PEM key of -tls-cert (env "+config.EnvAPITLSKey+")")
	fs.Float64Var(&cfg.API.RateLimit, "rate-limit", cfg.API.RateLimit, "requests per second per client, 0 = no limit (env "+config.EnvAPIRateLimit+")")
	fs.StringVar(&cfg.ReportTZ, "report-tz", cfg.ReportTZ, "time zone of metric_date and \"today\" (env "+config.EnvReportTZ+")")
	fs.StringVar(&cfg.RulesFile, "rules", cfg.RulesFile, "detection rules file, for the windows and verdicts of IP status (env "+config.EnvRulesFile+")")
}
