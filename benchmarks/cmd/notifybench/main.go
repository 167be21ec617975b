// Command notifybench measures the alert mailer on the real Kafka and the
// local Mailpit, with connectors/notify in process and the digest off (one
// mail per alert), on a fresh alert topic per round:
//
//   - drain: N alerts are on the topic before the mailer starts; mails per
//     second from its start to the last mail accepted;
//
//   - latency: alerts produced one at a time while it runs; time from the
//     alert's Kafka acknowledgement to the SMTP server's acceptance of its
//     mail (p50/p90/max).
//
// Usage (Kafka and Mailpit of the local stack, or KAFKA_BROKERS / SMTP_*):
//
//	go run ./benchmarks/cmd/notifybench -n 500 -rounds 3
package main

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

func main() {
	n := flag.Int("n", 300, "alerts per round")
	rounds := flag.Int("rounds", 3, "rounds")
	window := flag.Duration("window", 0, "digest window (the gathering delay added to every alert)")
	flag.Parse()
	if err := run(*n, *rounds, *window); err != nil {
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(1)
	}
}

// timedSender records when the server accepted each alert's mail.
type timedSender struct {
	s  *mail.Sender
	mu sync.Mutex
	at map[string]time.Time
}

func (t *timedSender) Send(ctx context.Context, m mail.Message) error {
	if err := t.s.Send(ctx, m); err != nil {
		return err
	}
	t.mu.Lock()
	t.at[m.Headers["X-Logmon-Alert-Ids"]] = time.Now()
	t.mu.Unlock()
	return nil
}

func (t *timedSender) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.at)
}

type result struct {
	rate          float64 // drain: mails per second
	latencyN      int     // alerts the latency is measured over
	p50, p90, max time.Duration
}

func run(n, rounds int, window time.Duration) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := mail.New(cfg.SMTP, log)
	if err != nil {
		return err
	}
	var results []result
	for r := range rounds {
		res, err := round(cfg, s, log, n, window)
		if err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		fmt.Printf("round %d: drain of %d alerts %.0f mails/s; latency over %d alerts p50 %v p90 %v max %v\n", r+1, n, res.rate, res.latencyN,
			res.p50.Round(time.Millisecond), res.p90.Round(time.Millisecond), res.max.Round(time.Millisecond))
		results = append(results, res)
	}
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	fmt.Printf("median of %d rounds: drain %.0f mails/s, latency p50 %.0f ms, p90 %.0f ms, max %.0f ms (digest window %v)\n", rounds,
		med(func(r result) float64 { return r.rate }), med(func(r result) float64 { return float64(r.p50.Milliseconds()) }),
		med(func(r result) float64 { return float64(r.p90.Milliseconds()) }), med(func(r result) float64 { return float64(r.max.Milliseconds()) }), window)
	return nil
}

func round(cfg config.Config, s *mail.Sender, log *slog.Logger, n int, window time.Duration) (result, error) {
	name := fmt.Sprintf("bench-notify-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: name}}, log); err != nil {
		return result{}, err
	}
	defer deleteTopic(cfg.Kafka, name)
	dir, err := os.MkdirTemp("", "notifybench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	prod, err := sarama.NewSyncProducer(cfg.Kafka.Brokers, kafkaconfig.Sarama("notifybench"))
	if err != nil {
		return result{}, err
	}
	defer prod.Close()
	base := time.Date(2015, 12, 11, 3, 0, 0, 0, time.UTC)
	msg := func(i int) (*sarama.ProducerMessage, string) {
		a := contracts.Alert{ID: fmt.Sprintf("%s-%d", name, i), Rule: contracts.RuleBruteForce, Severity: "high",
			IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Count: 10, WindowSeconds: 300,
			WindowStart: base, FirstEventTime: base, LastEventTime: base, EpisodeStart: base}
		v, _ := json.Marshal(a)
		return &sarama.ProducerMessage{Topic: name, Key: sarama.StringEncoder(a.IP), Value: sarama.ByteEncoder(v)}, a.ID
	}
	// Drain: the backlog is on the topic before the mailer starts.
	backlog := make([]*sarama.ProducerMessage, n)
	for i := range backlog {
		backlog[i], _ = msg(i)
	}
	if err := prod.SendMessages(backlog); err != nil {
		return result{}, err
	}
	ts := &timedSender{s: s, at: map[string]time.Time{}}
	nt, err := notify.New(notify.Config{Kafka: cfg.Kafka, Topic: name, Group: name, To: []string{name + "@bench.test"},
		DigestAfter: 0, DigestWindow: window, LedgerPath: filepath.Join(dir, "ledger")}, ts, nil, log)
	if err != nil {
		return result{}, err
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- nt.Run(rctx) }()
	defer func() { stop(); <-done }()
	if err := waitCount(ctx, ts, n); err != nil {
		return result{}, err
	}
	var res result
	var last time.Time
	ts.mu.Lock()
	for _, at := range ts.at {
		if at.After(last) {
			last = at
		}
	}
	ts.mu.Unlock()
	res.rate = float64(n) / last.Sub(start).Seconds()

	// Latency: one alert at a time, the mailer idle in between.
	m := max(n/5, 10)
	lat := make([]time.Duration, 0, m)
	for i := n; i < n+m; i++ {
		pm, id := msg(i)
		if _, _, err := prod.SendMessage(pm); err != nil {
			return result{}, err
		}
		acked := time.Now()
		if err := waitCount(ctx, ts, i+1); err != nil {
			return result{}, err
		}
		ts.mu.Lock()
		lat = append(lat, ts.at[id].Sub(acked))
		ts.mu.Unlock()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.latencyN, res.p50, res.p90, res.max = m, lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1]
	return res, nil
}

func waitCount(ctx context.Context, ts *timedSender, n int) error {
	for ts.count() < n {
		if ctx.Err() != nil {
			return errors.New("timed out waiting for the mails")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func deleteTopic(k config.Kafka, name string) {
	admin, err := sarama.NewClusterAdmin(k.Brokers, kafkaconfig.Sarama("notifybench"))
	if err != nil {
		return
	}
	defer admin.Close()
	_ = admin.DeleteTopic(name)
}
