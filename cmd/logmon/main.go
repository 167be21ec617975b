// Command logmon is log_monitor's one binary: every component is a subcommand.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Seoul and friends on machines without zoneinfo

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// command is one subcommand: its one-line help and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"stack":    {"run the local Kafka + Elasticsearch: up | down | status | reset | fetch", runStack},
	"topics":   {"create or check the project's Kafka topics", runTopics},
	"setup":    {"one-shot: create topics and index templates", runSetup},
	"ingest":   {"tail SSH logs, parse every line, publish to Kafka ssh-log", runIngest},
	"process":  {"Goka processors: per-IP/user/day/host state, alerts, metrics-daily", runProcess},
	"agent":    {"sample this server's CPU, memory, disks and network into system-metrics (-globs: also tail its SSH logs; -once: print one sample)", runAgent},
	"parse":    {"dry run: parse files or stdin, print one JSON event per line (--summary for counts)", runParse},
	"show":     {"print the alerts by rule and the metrics-daily documents", runShow},
	"notify":   {"mail the alerts of ssh-alerts to the on-call people (digest when many)", runNotify},
	"report":   {"the daily report mail: on its schedule, or -date YYYY-MM-DD [-send] [-out file.html]", runReport},
	"api":      {"gRPC + REST API over the views: IP status, daily metrics, alerts, alert stream", runAPI},
	"index":    {"Elasticsearch sink: ssh-log, ssh-alerts, metrics-daily into their indices", runIndex},
	"status":   {"the health of the whole pipeline on one screen (-json for scripts, -watch to refresh)", runStatus},
	"watchdog": {"the pipeline's alerts about itself: pipeline_stalled, component_down, elasticsearch_unhealthy, kafka_under_replicated", runWatchdog},
	"all":      {"every long-running part in one process (small installations): ingest, process, index, api, notify, watchdog", runAll},
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "logmon: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	// Any goka builder not given the project's options still gets acks=all
	// and oldest-first consumption.
	kafkaconfig.UseForGoka()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(config.MemoryLimit(os.Args[1]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		slog.Error("logmon "+os.Args[1]+" failed", "err", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: logmon <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'logmon <command> -h' for its flags. Settings also come from the environment (see README).")
}

// newLogger returns the process's structured logger at the given level.
func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	slog.SetDefault(log)
	return log
}

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

// writeHeapProfiles writes a heap profile to path every interval while the
// heap is larger than at the last write, until ctx ends: what holds memory
// at the peak.
func writeHeapProfiles(ctx context.Context, path string, every time.Duration, log *slog.Logger) {
	var peak uint64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= peak {
			continue
		}
		peak = ms.HeapInuse
		f, err := os.Create(path)
		if err != nil {
			log.Warn("heap profile", "err", err)
			return
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			log.Warn("heap profile", "err", err)
		}
		f.Close()
	}
}

// startCPUProfile writes a CPU profile to path until the returned stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
