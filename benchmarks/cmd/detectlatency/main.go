// Command detectlatency measures detection latency on the real pipeline: a
// burst of failed logins appended to a tailed file -> the brute_force (or,
// with -rule distributed_attack, the user stage's) alert on the alert topic.
// It runs ingest (tail -> Kafka) and the tracker's two groups in process, on fresh topics of the cluster in KAFKA_BROKERS (default: the
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
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/topics"
)

func main() {
	bursts := flag.Int("bursts", 60, "bursts of 10 failures, one new IP each")
	gap := flag.Duration("gap", 300*time.Millisecond, "pause between bursts")
	poll := flag.Duration("poll", 250*time.Millisecond, "tail poll interval")
	rule := flag.String("rule", contracts.RuleBruteForce, "brute_force (10 failures from a new IP; IP stage) or distributed_attack (20 failures on a new user from 5 IPs; user stage)")
	flag.Parse()
	if *rule != contracts.RuleBruteForce && *rule != contracts.RuleDistributedAttack {
		fmt.Fprintln(os.Stderr, "detectlatency: -rule must be brute_force or distributed_attack")
		os.Exit(2)
	}
	if err := run(*rule, *bursts, *gap, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "detectlatency:", err)
		os.Exit(1)
	}
}

func run(rule string, bursts int, gap, poll time.Duration) error {
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
	if _, err := topics.Ensure(ctx, k, []topics.Spec{{Name: input}, {Name: alerts}}, log); err != nil {
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
	defer func() { cancel(); wg.Wait() }()

	seen := make(chan string, bursts*4)
	go consumeAlerts(ctx, k, alerts, rule, seen)
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
				key, b := burst(rule, sent, time.Now())
				if _, err := f.Write(b); err != nil {
					return err
				}
				written[key] = time.Now()
				sent++
				next = time.After(gap)
			}
		case key := <-seen:
			if t0, ok := written[key]; ok {
				lat = append(lat, time.Since(t0))
				delete(written, key)
			}
		case <-timeout:
			return fmt.Errorf("only %d of %d alerts arrived", len(lat), bursts)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	fmt.Printf("detection latency, burst of failures appended -> %s alert on %s (%d bursts, tail poll %v): p50 %v  p90 %v  p99 %v  max %v\n",
		rule, alerts, len(lat), poll, q(0.5), q(0.9), q(0.99), lat[len(lat)-1].Round(time.Millisecond))
	return nil
}

// burst is the n-th burst of failures for rule, written at now, and the key
// its alert will carry (a new IP, or a new user).
func burst(rule string, n int, now time.Time) (string, []byte) {
	var b []byte
	if rule == contracts.RuleDistributedAttack {
		user := fmt.Sprintf("bench%d", n)
		for i := 0; i < 20; i++ { // 5 IPs, 4 failures each: no per-IP rule fires
			b = fmt.Appendf(b, "%s benchhost sshd[%d]: Failed password for %s from 10.78.%d.%d port %d ssh2\n",
				now.Format(time.Stamp), 1000+n, user, n%250, i%5+1, 40000+i)
		}
		return user, b
	}
	ip := fmt.Sprintf("10.77.%d.%d", n/250, n%250+1)
	for i := 0; i < 10; i++ {
		b = fmt.Appendf(b, "%s benchhost sshd[%d]: Failed password for admin from %s port %d ssh2\n",
			now.Format(time.Stamp), 1000+n, ip, 40000+i)
	}
	return ip, b
}

// consumeAlerts sends the key (IP or user) of every alert of rule on topic.
func consumeAlerts(ctx context.Context, k config.Kafka, topic, rule string, out chan<- string) {
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
				var a contracts.Alert
				if json.Unmarshal(m.Value, &a) == nil && a.Rule == rule {
					out <- a.Key()
				}
			}
		}()
	}
	<-ctx.Done()
}
