// Command ingestprof runs logmon's ingest pipeline (connectors/ingest:
// tail -> parse -> publish) in-process over one file, once, with a CPU
// profile, so benchmarks/run.sh can say where the time of `logmon ingest`
// goes. It is the same code path as `logmon ingest -once -from-start`, minus
// the metrics endpoint. The topic must exist (run.sh creates it).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
	_ "time/tzdata"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
)

func main() {
	file := flag.String("file", "", "file to publish from its start")
	topic := flag.String("topic", "", "Kafka topic (must exist)")
	brokers := flag.String("brokers", "", "bootstrap brokers, comma-separated (default: the configuration's, KAFKA_BROKERS or the local stack)")
	year := flag.Int("year", 2015, "start year of the file")
	tz := flag.String("source-tz", "Asia/Seoul", "time zone of the file")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	memProfile := flag.String("memprofile", "", "write an allocation profile here")
	registry := flag.String("registry", "", "tail registry (default: a fresh one in a temporary directory)")
	flag.Parse()
	if *file == "" || *topic == "" {
		fmt.Fprintln(os.Stderr, "usage: ingestprof -file F -topic T [-cpuprofile P]")
		os.Exit(2)
	}
	if err := run(*file, *topic, *brokers, *year, *tz, *cpuProfile, *memProfile, *registry); err != nil {
		fmt.Fprintln(os.Stderr, "ingestprof:", err)
		os.Exit(1)
	}
}

func run(file, topic, brokers string, year int, tz, cpuProfile, memProfile, registry string) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if brokers != "" {
		cfg.Kafka.Brokers = config.SplitList(brokers)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	if registry == "" {
		dir, err := os.MkdirTemp("", "ingestprof-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		registry = filepath.Join(dir, "registry.json")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := ingest.New(ingest.Config{
		Kafka: cfg.Kafka,
		Tail:  tail.Config{Globs: []string{abs}, RegistryPath: registry, FromStart: true},
		Topic: topic,
		Year:  year,
		Loc:   loc,
		Once:  true,
	}, nil, log)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	if err := p.Run(context.Background()); err != nil {
		return err
	}
	wall := time.Since(start)
	st := p.TailStats()
	fmt.Printf("seconds=%.3f lines=%d events_per_s=%.0f cpu_seconds=%.3f gomaxprocs=%d\n",
		wall.Seconds(), st.Lines, float64(st.Lines)/wall.Seconds(), cpuSeconds()-cpu0, runtime.GOMAXPROCS(0))
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	return nil
}

// cpuSeconds is the process's CPU time so far (user + system).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
