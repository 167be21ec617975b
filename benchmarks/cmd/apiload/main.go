// Command apiload loads the log_monitor API for benchmarks/api.sh.
//
//	apiload -mode ip    -addr 127.0.0.1:9090 -ip 1.2.3.4 -rate 1000 -duration 30s
//	    GetIPStatus over gRPC at a constant rate (open loop): p50/p99 latency.
//	apiload -mode watch -addr 127.0.0.1:9090 -subs 100 -alerts 200 -topic ssh-alerts
//	    100 WatchAlerts subscribers; alerts produced to the topic (the
//	    project's producer settings, acks=all); latency from the produce
//	    call to each subscriber's receipt (and from the producer's
//	    acknowledgement: the alert is in the topic).
//
// It prints one JSON object with the figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

func main() {
	mode := flag.String("mode", "ip", "ip or watch")
	addr := flag.String("addr", "127.0.0.1:9090", "gRPC address")
	ip := flag.String("ip", "", "IP to ask about (mode ip)")
	rate := flag.Int("rate", 1000, "requests per second (mode ip)")
	dur := flag.Duration("duration", 30*time.Second, "how long (mode ip)")
	subs := flag.Int("subs", 100, "subscribers (mode watch)")
	alerts := flag.Int("alerts", 200, "alerts to produce (mode watch)")
	every := flag.Duration("every", 20*time.Millisecond, "pause between produced alerts (mode watch)")
	topic := flag.String("topic", contracts.TopicSSHAlerts, "alert topic (mode watch)")
	brokers := flag.String("brokers", config.LocalKafkaBrokers, "Kafka brokers (mode watch)")
	token := flag.String("token", os.Getenv(config.EnvAPIToken), "bearer token (env API_TOKEN)")
	flag.Parse()

	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	c := pb.NewLogMonitorClient(conn)
	ctx := context.Background()
	if *token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
	}
	var out map[string]any
	switch *mode {
	case "ip":
		out = loadIP(ctx, c, *ip, *rate, *dur)
	case "watch":
		out = loadWatch(ctx, c, *subs, *alerts, *every, *topic, config.SplitList(*brokers))
	default:
		fail(fmt.Errorf("mode %q: want ip or watch", *mode))
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apiload:", err)
	os.Exit(1)
}

// loadIP sends GetIPStatus at a constant rate, each call on its own
// goroutine at its scheduled time (open loop: a slow answer does not slow
// the rate down).
func loadIP(ctx context.Context, c pb.LogMonitorClient, ip string, rate int, dur time.Duration) map[string]any {
	// Warm up the connection.
	if _, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: ip}); err != nil {
		fail(fmt.Errorf("warm-up call: %w", err))
	}
	n := int(dur.Seconds() * float64(rate))
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			_, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: ip})
			lat[i] = time.Since(t0)
			if err != nil {
				errs.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	out := summary(lat)
	out["mode"], out["requests"], out["errors"], out["achieved_rps"] = "grpc GetIPStatus", n, errs.Load(), float64(n)/elapsed.Seconds()
	return out
}

// loadWatch opens subs streams, produces alerts and measures, per alert and
// subscriber, the time from the produce call to the receipt.
func loadWatch(ctx context.Context, c pb.LogMonitorClient, subs, alerts int, every time.Duration, topic string, brokers []string) map[string]any {
	run := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	var mu sync.Mutex
	sent, acked := map[string]time.Time{}, map[string]time.Time{}
	type receipt struct {
		id string
		at time.Time
	}
	var got []receipt
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ready, done sync.WaitGroup
	for range subs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			st, err := c.WatchAlerts(ctx, &pb.WatchAlertsRequest{})
			if err != nil {
				fail(err)
			}
			if _, err := st.Recv(); err != nil { // the starting cursor
				fail(err)
			}
			ready.Done()
			n := 0
			for n < alerts {
				ev, err := st.Recv()
				if err != nil {
					return
				}
				now := time.Now()
				mu.Lock()
				if _, ok := sent[ev.GetAlert().GetAlertId()]; ok {
					got = append(got, receipt{ev.GetAlert().GetAlertId(), now})
					n++
				}
				mu.Unlock()
			}
		}()
	}
	ready.Wait()
	p, err := sarama.NewSyncProducer(brokers, kafkaconfig.Sarama("logmon-apiload"))
	if err != nil {
		fail(err)
	}
	defer p.Close()
	for i := range alerts {
		now := time.Now().UTC()
		a := contracts.Alert{Timestamp: now, ID: fmt.Sprintf("%s-%05d", run, i), Rule: contracts.RuleBruteForce, Severity: "high",
			IP: fmt.Sprintf("198.18.%d.%d", i/250, i%250+1), Count: 10, WindowSeconds: 300, LastEventTime: now, Message: "apiload"}
		b, _ := json.Marshal(&a)
		mu.Lock()
		sent[a.ID] = time.Now()
		mu.Unlock()
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(a.Key()), Value: sarama.ByteEncoder(b)}); err != nil {
			fail(err)
		}
		mu.Lock()
		acked[a.ID] = time.Now()
		mu.Unlock()
		time.Sleep(every)
	}
	waited := make(chan struct{})
	go func() { done.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		cancel()
		<-waited
	}
	mu.Lock()
	defer mu.Unlock()
	var lat, fromAck []time.Duration
	for _, r := range got {
		lat = append(lat, r.at.Sub(sent[r.id]))
		fromAck = append(fromAck, max(0, r.at.Sub(acked[r.id])))
	}
	out := summary(lat)
	ack := summary(fromAck)
	out["from_ack_p50_ms"], out["from_ack_p99_ms"] = ack["p50_ms"], ack["p99_ms"]
	out["mode"], out["subscribers"], out["alerts"], out["deliveries_expected"] = "WatchAlerts", subs, alerts, subs*alerts
	return out
}

func summary(lat []time.Duration) map[string]any {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return map[string]any{"count": len(s), "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99), "max_ms": q(1)}
}
