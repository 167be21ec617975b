package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/processors/daily"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/telemetry"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

// runProcess runs the tracker group (per-IP, per-user and per-day state,
// alerts) and the metrics-daily emitter over its view.
func runProcess(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("process", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterCommonFlags(fs)
	fs.StringVar(&cfg.ReportTZ, "report-tz", cfg.ReportTZ, "time zone of metric_date (env "+config.EnvReportTZ+")")
	fs.StringVar(&cfg.RulesFile, "rules", cfg.RulesFile, "detection rules file, YAML or JSON (env "+config.EnvRulesFile+"; default DESIGN's thresholds)")
	group := fs.String("group", tracker.DefaultGroup, "goka group (tests and benchmarks use their own)")
	input := fs.String("input", "", "input topic (default ssh-log)")
	alerts := fs.String("alerts", "", "alert topic (default ssh-alerts)")
	metricsTopic := fs.String("metrics-topic", "", "metrics-daily topic (default metrics-daily)")
	untilDone := fs.Bool("until-caught-up", false, "stop once everything in the input is processed and the day documents are sent (demo, replays)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (benchmarks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	loc, err := cfg.ReportLocation()
	if err != nil {
		return err
	}
	rules := detect.DefaultRules()
	if cfg.RulesFile != "" {
		if rules, err = detect.LoadRules(cfg.RulesFile); err != nil {
			return err
		}
	}
	reg := telemetry.NewRegistry()
	tr := tracker.New(tracker.Config{
		Kafka: cfg.Kafka, Group: *group, Input: *input, Alerts: *alerts, Rules: rules, ReportLoc: loc,
		StorageDir: filepath.Join(cfg.DataDir, "process", *group),
	}, tracker.NewMetrics(reg), log)
	tr.RegisterLag(reg)
	// The view reads the group's table: create every topic first.
	if err := tr.EnsureTopics(ctx); err != nil {
		return err
	}
	if *metricsTopic != "" {
		if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: *metricsTopic, Partitions: 1, Compacted: true}}, log); err != nil {
			return err
		}
	}
	view, err := views.NewDayView(cfg.Kafka, *group, log)
	if err != nil {
		return err
	}

	em, err := daily.New(daily.Config{Kafka: cfg.Kafka, Topic: *metricsTopic, Loc: loc,
		Busy: func() bool { return tr.Busy(ctx) }}, view, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return tr.Run(gctx) })
	g.Go(func() error { return view.Run(gctx) })
	g.Go(func() error { return em.Run(gctx) })
	if *untilDone {
		g.Go(func() error {
			if err := tr.WaitCaughtUp(gctx); err != nil {
				return nil
			}
			if err := view.WaitReady(gctx); err != nil {
				return nil
			}
			time.Sleep(2 * time.Second) // the view follows the table topic
			if err := em.Tick(); err != nil {
				return err
			}
			log.Info("caught up: every input processed, day documents sent", "days", len(em.Documents()))
			cancel()
			return nil
		})
	}
	g.Go(func() error {
		return telemetry.Serve(gctx, cfg.MetricsAddr, reg, func() error {
			if !view.Ready() {
				return errors.New("view recovering")
			}
			return nil
		}, log)
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("process: %w", err)
	}
	return nil
}
