package agent_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/agent"
	"github.com/log-monitor/log_monitor/connectors/hostmetrics"
	"github.com/log-monitor/log_monitor/connectors/spool"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// TestSamplesSurviveAKafkaOutage: the agent samples every 300 ms into
// real Kafka; two of the three brokers die (min.insync.replicas=2: every
// send fails) for a minute while it goes on sampling into its spool; once
// they are back every sample arrives, in order, once.
func TestSamplesSurviveAKafkaOutage(t *testing.T) {
	k := testkit.Kafka(t)
	st := testkit.Stack(t)
	topic := testkit.UniqueName("it-agent")
	testkit.DeleteTopicsAtEnd(t, k, topic)
	sp, err := spool.Open(filepath.Join(t.TempDir(), "spool"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	const interval = 300 * time.Millisecond
	a := agent.New(agent.Config{Kafka: k, Topic: topic, Host: "agent-it", Interval: interval, Spool: sp,
		Sampler: hostmetrics.New("agent-it", contracts.AgentInfo{ID: "it"}, interval, logger)}, nil, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		}
	}
	defer stop()

	seqs := func() []int64 {
		var out []int64
		for _, m := range testkit.ReadAll(t, k, topic) {
			var s contracts.HostSample
			if err := json.Unmarshal(m.Value, &s); err != nil {
				t.Fatal(err)
			}
			if string(m.Key) != "agent-it" {
				t.Fatalf("key %q", m.Key)
			}
			out = append(out, s.Seq)
		}
		return out
	}
	waitSeqs := func(n int, limit time.Duration) []int64 {
		deadline := time.Now().Add(limit)
		for {
			got := seqs()
			if len(got) >= n || time.Now().After(deadline) {
				return got
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	if got := waitSeqs(5, time.Minute); len(got) < 5 {
		t.Fatalf("%d samples arrived in a minute", len(got))
	}

	restart := testkit.KillBrokers(t, st, 1, 2)
	time.Sleep(time.Minute)
	spooled := sp.Len()
	t.Logf("Kafka down a minute: %d samples spooled", spooled)
	if spooled < 100 {
		t.Errorf("only %d samples spooled during the outage", spooled)
	}
	restart()
	deadline := time.Now().Add(2 * time.Minute)
	for sp.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if sp.Len() != 0 || sp.Dropped() != 0 {
		t.Fatalf("after the outage: %d spooled, %d dropped", sp.Len(), sp.Dropped())
	}
	got := seqs()
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("sample %d has seq %d: lost, doubled or out of order (%d samples)", i, s, len(got))
		}
	}
	t.Logf("%d samples, seq 1..%d in order, once", len(got), len(got))
}
