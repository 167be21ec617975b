package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/health"
	"github.com/log-monitor/log_monitor/contracts"
)

// statusOptions say which topics, groups and indices make up the pipeline
// (the contract's by default; tests and side-by-side installs name theirs).
type statusOptions struct {
	groups, alerts, dlq, indices string
}

func registerStatusFlags(fs *flag.FlagSet, o *statusOptions) {
	fs.StringVar(&o.groups, "status-groups", "logmon", "consumer groups to show: name prefixes, comma-separated (* = every group)")
	fs.StringVar(&o.alerts, "status-alerts-topic", contracts.TopicSSHAlerts, "the alert topic whose last alert the status shows")
	fs.StringVar(&o.dlq, "status-dlq-topic", contracts.TopicSSHLogDLQ, "the dead-letter topic the status counts")
	fs.StringVar(&o.indices, "status-indices", strings.Join([]string{contracts.IndexSSHLog, contracts.IndexSSHAlerts, contracts.IndexSSHIncidents, contracts.IndexMetricsDaily, contracts.IndexSystemMetrics}, ","),
		"Elasticsearch indices (or aliases) to show, comma-separated")
}

// newCollector is the status collector of the pipeline cfg and o describe.
// An empty ELASTICSEARCH_URLS leaves Elasticsearch out.
func newCollector(cfg config.Config, o statusOptions, log *slog.Logger) (*health.Collector, error) {
	hc := health.Config{Kafka: cfg.Kafka, HeartbeatsTopic: cfg.Health.Topic, AlertsTopic: o.alerts, DLQTopic: o.dlq,
		Indices: config.SplitList(o.indices), Groups: config.SplitList(o.groups), StallWindow: cfg.Health.StallWindow}
	if len(cfg.Elastic.URLs) > 0 {
		hc.Elastic = &cfg.Elastic
	}
	return health.NewCollector(hc, log)
}

// runStatus prints the pipeline's health once, or every -every with -watch.
func runStatus(ctx context.Context, args []string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	var (
		o        statusOptions
		asJSON   bool
		watch    bool
		every    time.Duration
		logLevel = "warn"
	)
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	cfg.RegisterKafkaFlags(fs)
	cfg.RegisterElasticFlags(fs)
	cfg.RegisterHealthFlags(fs)
	registerStatusFlags(fs, &o)
	fs.DurationVar(&cfg.Health.StallWindow, "stall-window", cfg.Health.StallWindow, "with -watch: how long lag must grow to count as stalled (env "+config.EnvStallWindow+")")
	fs.BoolVar(&asJSON, "json", false, "print the status as JSON (one document per line with -watch)")
	fs.BoolVar(&watch, "watch", false, "print the status again every -every until interrupted")
	fs.DurationVar(&every, "every", 2*time.Second, "with -watch: time between two looks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := newCollector(cfg, o, newLogger(logLevel))
	if err != nil {
		return err
	}
	for {
		st := c.Collect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if asJSON {
			if err := json.NewEncoder(os.Stdout).Encode(st); err != nil {
				return err
			}
		} else {
			if watch {
				fmt.Print("\033[H\033[2J")
			}
			printPipelineStatus(os.Stdout, st)
		}
		if !watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// printPipelineStatus writes the status for people, one screen.
func printPipelineStatus(w io.Writer, st *contracts.Status) {
	verdict := "HEALTHY"
	if !st.Healthy {
		verdict = fmt.Sprintf("%d PROBLEMS", len(st.Problems))
	}
	fmt.Fprintf(w, "log_monitor at %s: %s (gathered in %s)\n", st.Time.Format("2006-01-02 15:04:05 MST"), verdict, st.Took.Round(time.Millisecond))
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  ! %s\n", p)
	}
	fmt.Fprintln(w, "\nCOMPONENTS")
	if len(st.Components) == 0 {
		fmt.Fprintln(w, "  no heartbeats yet")
	}
	for _, c := range st.Components {
		line := fmt.Sprintf("  %-28s %-8s last heartbeat %s ago", c.Key(), c.State, secs(c.SinceSeconds))
		if c.State == contracts.StateUp {
			line += ", up " + secs(c.UptimeSeconds)
		}
		if !c.LastProgress.IsZero() {
			line += ", last progress " + secs(st.Time.Sub(c.LastProgress).Seconds()) + " ago"
		}
		if !c.Ready && c.State == contracts.StateUp {
			line += ", NOT READY: " + c.Reason
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "\nCONSUMER GROUPS")
	for _, g := range st.Groups {
		flags := ""
		if g.Growing {
			flags += " growing"
		}
		if g.Stalled {
			flags += fmt.Sprintf(" STALLED for %s", secs(g.StalledSeconds))
		}
		fmt.Fprintf(w, "  %-36s lag %-8d %s, %d members%s\n", g.Group, g.Lag, g.State, g.Members, flags)
		for _, p := range g.Partitions {
			if p.Lag > 0 {
				fmt.Fprintf(w, "    %s/%d lag %d (committed %d, end %d)\n", p.Topic, p.Partition, p.Lag, p.Committed, p.End)
			}
		}
	}
	k := st.Kafka
	fmt.Fprintf(w, "\nKAFKA  %d of %d brokers up, controller %d, %d partitions, %d under-replicated, %d offline, %d dead letters\n",
		k.BrokersUp, len(k.Brokers), k.Controller, k.Partitions, k.UnderReplicatedN, k.OfflineN, k.DeadLetterRecords)
	for _, b := range k.Brokers {
		if !b.Up {
			fmt.Fprintf(w, "  %s down: %s\n", b.Addr, b.Error)
		}
	}
	if e := st.Elastic; e != nil {
		if e.Up {
			fmt.Fprintf(w, "\nELASTICSEARCH  %s %s\n", e.URL, e.Health)
		} else {
			fmt.Fprintf(w, "\nELASTICSEARCH  %s DOWN: %s\n", e.URL, e.Error)
		}
		for _, i := range e.Indices {
			fmt.Fprintf(w, "  %-20s %12d docs  %8.1f docs/s\n", i.Name, i.Docs, i.IndexedPerSecond)
		}
	}
	fmt.Fprintln(w)
	if a := st.Alerts.Last; a != nil {
		fmt.Fprintf(w, "LAST ALERT  %s %s %s at %s\n", a.Severity, a.Rule, a.Key(), a.Timestamp.Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "LAST ALERT  none")
	}
	m := st.Mail
	last := "none"
	if !m.LastReportDay.IsZero() {
		last = m.LastReportDay.Format("2006-01-02")
	}
	fmt.Fprintf(w, "MAIL  %.0f sent, %.0f failed; daily reports %.0f sent, %.0f failed, last day %s\n", m.Sent, m.Failed, m.ReportsSent, m.ReportsFailed, last)
	h := st.Hosts
	fmt.Fprintf(w, "HOSTS  %d reporting: %d silent, %d warning, %d critical\n", h.Reporting, h.Silent, h.Warning, h.Critical)
	if len(st.Episodes) > 0 {
		fmt.Fprintln(w, "\nOPEN SELF-ALERTS")
		for _, e := range st.Episodes {
			fmt.Fprintf(w, "  %s %s since %s\n", e.Rule, e.Component, e.Start.Format(time.RFC3339))
		}
	}
}

func secs(s float64) string {
	return (time.Duration(s) * time.Second).String()
}
