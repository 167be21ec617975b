// Command detectlatency measures detection latency on the real pipeline: a
// burst of failed logins appended to a tailed file -> the brute_force alert
// on the alert topic. It runs ingest (tail -> Kafka) and the tracker group in
// process, on fresh topics of the cluster in KAFKA_BROKERS (default: the
// local stack), and prints p50/p90/p99/max over the bursts.
//
//	go run ./benchmarks/cmd/detectlatency -bursts 60
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/topics"
)

func main() {
	bursts := flag.Int("bursts", 60, "bursts of 10 failures, one new IP each")
	gap := flag.Duration("gap", 300*time.Millisecond, "pause between bursts")
	poll := flag.Duration("poll", 250*time.Millisecond, "tail poll interval")
	flag.Parse()
	if err := run(*bursts, *gap, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "detectlatency:", err)
		os.Exit(1)
	}
}

func run(bursts int, gap, poll time.Duration) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	k := cfg.Kafka
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := fmt.Sprintf("bench-latency-%d", time.Now().UnixNano())
	input, alerts := name+"-ssh-log", name+"-alerts"
	if _, err := topics.Ensure(ctx, k, []topics.Spec{{Name: input, Partitions: 3}, {Name: alerts, Partitions: 3}}, log); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "detectlatency")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile := filepath.Join(dir, "ssh-bench.log")
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer f.Close()

	pipe, err := ingest.New(ingest.Config{Kafka: k, Topic: input, Loc: time.Local,
		Tail: tail.Config{Globs: []string{logFile}, RegistryPath: filepath.Join(dir, "reg.json"), FromStart: true, PollInterval: poll}}, nil, log)
	if err != nil {
		return err
	}
	tr := tracker.New(tracker.Config{Kafka: k, Group: name, Input: input, Alerts: alerts, Rules: detect.DefaultRules(),
		ReportLoc: time.Local, StorageDir: filepath.Join(dir, "storage")}, nil, log)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pipe.Run(ctx) }()
	go func() { defer wg.Done(); _ = tr.Run(ctx) }()
	defer wg.Wait()

	seen := make(chan string, bursts*4)
	go consumeAlerts(ctx, k, alerts, seen)
	time.Sleep(5 * time.Second) // group join, partition assignment

	written := map[string]time.Time{}
	var lat []time.Duration
	timeout := time.After(time.Duration(bursts)*gap + 60*time.Second)
	next := time.After(0)
	sent := 0
	for len(lat) < bursts {
		select {
		case <-next:
			if sent < bursts {
				ip := fmt.Sprintf("10.77.%d.%d", sent/250, sent%250+1)
				now := time.Now()
				var b []byte
				for i := 0; i < 10; i++ {
					b = fmt.Appendf(b, "%s benchhost sshd[%d]: Failed password for admin from %s port %d ssh2\n",
						now.Format(time.Stamp), 1000+sent, ip, 40000+i)
				}
				if _, err := f.Write(b); err != nil {
					return err
				}
				written[ip] = now
				sent++
				next = time.After(gap)
			}
		case ip := <-seen:
			if t0, ok := written[ip]; ok {
				lat = append(lat, time.Since(t0))
				delete(written, ip)
			}
		case <-timeout:
			return fmt.Errorf("only %d of %d alerts arrived", len(lat), bursts)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	fmt.Printf("detection latency, burst of 10 failures appended -> brute_force alert on %s (%d bursts, tail poll %v): p50 %v  p90 %v  p99 %v  max %v\n",
		alerts, len(lat), poll, q(0.5), q(0.9), q(0.99), lat[len(lat)-1].Round(time.Millisecond))
	return nil
}

// consumeAlerts sends the IP of every brute_force alert on topic.
func consumeAlerts(ctx context.Context, k config.Kafka, topic string, out chan<- string) {
	c, err := sarama.NewConsumer(k.Brokers, kafkaconfig.Sarama("bench-latency"))
	if err != nil {
		return
	}
	defer c.Close()
	for p := int32(0); p < 3; p++ {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return
		}
		go func() {
			for m := range pc.Messages() {
				var a detect.Alert
				if json.Unmarshal(m.Value, &a) == nil && a.Rule == "brute_force" {
					out <- a.IP
				}
			}
		}()
	}
	<-ctx.Done()
}
