package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/agent"
	"github.com/log-monitor/log_monitor/connectors/hostmetrics"
	"github.com/log-monitor/log_monitor/connectors/spool"
	"github.com/log-monitor/log_monitor/contracts"
)

// agentOptions are `logmon agent`'s own flags.
type agentOptions struct {
	host, topic, spoolDir string
	interval, spoolAge    time.Duration
	globs                 string
	fromStart             bool
}

// Defaults of `logmon agent`: a sample every 10 s, a day of them kept
// while Kafka is unreachable.
const (
	defaultAgentInterval = 10 * time.Second
	defaultSpoolAge      = 24 * time.Hour
)

func registerAgentFlags(fs *flag.FlagSet, o *agentOptions) {
	host, _ := os.Hostname()
	fs.StringVar(&o.host, "host", host, "host name the samples carry (the Kafka key)")
	fs.DurationVar(&o.interval, "interval", defaultAgentInterval, "sampling interval")
}

// runAgent samples this server every interval into system-metrics and,
// with -globs, tails its SSH logs like `logmon ingest` in the same process.
// -once prints one sample and exits (no Kafka needed).
func runAgent(ctx context.Context, args []string) error {
	if slices.Contains(args, "-once") || slices.Contains(args, "--once") {
		return runAgentOnce(ctx, args)
	}
	o := &agentOptions{}
	return runComponents(ctx, "agent", args, func(fs *flag.FlagSet, cfg *config.Config) {
		registerAgentFlags(fs, o)
		fs.StringVar(&o.topic, "topic", contracts.TopicSystemMetrics, "Kafka topic of the samples (tests use their own)")
		fs.StringVar(&o.spoolDir, "spool-dir", "", "where samples wait while Kafka is unreachable (default <data-dir>/agent-spool)")
		fs.DurationVar(&o.spoolAge, "spool-age", defaultSpoolAge, "how much sampling the spool keeps while Kafka is unreachable; past it the oldest samples are dropped and counted")
		cfg.RegisterSourceFlags(fs)
		fs.StringVar(&o.globs, "globs", "", "also tail these SSH logs (comma-separated globs) into ssh-log, as `logmon ingest` does")
		fs.BoolVar(&o.fromStart, "from-start", false, "with -globs: read files Kafka holds no position of from their beginning")
	}, func(_ context.Context, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) ([]component, error) {
		return buildAgent(cfg, o, reg, log)
	})
}

func buildAgent(cfg config.Config, o *agentOptions, reg prometheus.Registerer, log *slog.Logger) ([]component, error) {
	if o.interval < time.Second {
		return nil, fmt.Errorf("agent: -interval %v: at least 1s", o.interval)
	}
	if o.spoolDir == "" {
		o.spoolDir = filepath.Join(cfg.DataDir, "agent-spool")
	}
	sp, err := spool.Open(o.spoolDir, max(int(o.spoolAge/o.interval), 1))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := agent.New(agent.Config{Kafka: cfg.Kafka, Topic: o.topic, Host: o.host, Interval: o.interval,
		Sampler: hostmetrics.New(o.host, agentInfo(o.host), o.interval, log), Spool: sp}, reg, log)
	comps := []component{{name: "agent", run: a.Run}}
	if o.globs != "" {
		cfg.Ingest.Globs = config.SplitList(o.globs)
		cfg.Ingest.FromStart = o.fromStart
		c, err := buildIngest(cfg, &ingestOptions{topic: contracts.TopicSSHLog}, reg, log)
		if err != nil {
			return nil, err
		}
		comps = append(comps, c)
	}
	return comps, nil
}

// runAgentOnce prints one sample as JSON: a dry run of what the agent sends.
func runAgentOnce(ctx context.Context, args []string) error {
	o := &agentOptions{}
	fs := flag.NewFlagSet("agent -once", flag.ExitOnError)
	registerAgentFlags(fs, o)
	fs.Bool("once", true, "print one sample as JSON and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := hostmetrics.New(o.host, agentInfo(o.host), o.interval, slog.New(slog.DiscardHandler)).Sample(ctx)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// agentInfo names this run of the agent: its samples' Seq starts at 1
// again under a new id.
func agentInfo(host string) contracts.AgentInfo {
	return contracts.AgentInfo{ID: fmt.Sprintf("%s-%d", host, time.Now().UnixNano()), Version: buildVersion()}
}
