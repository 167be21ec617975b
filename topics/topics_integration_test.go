package topics_test

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// TestEnsureContract creates the contract's topics (idempotently: twice, and
// from two components at once) and checks partitions, replication and configs
// on the real cluster.
func TestEnsureContract(t *testing.T) {
	k := testkit.Kafka(t)
	ctx := testkit.Context(t, 2*time.Minute)
	extra := topics.Spec{Name: testkit.UniqueName("it-table"), Partitions: 3, Compacted: true}
	specs := append(topics.Contract(), extra)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = topics.Ensure(ctx, k, specs, logger)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Ensure: %v", err)
	}
	if rf, err := topics.Ensure(ctx, k, specs, logger); err != nil || rf != 3 {
		t.Fatalf("second Ensure: replication %d, %v", rf, err)
	}

	admin, err := sarama.NewClusterAdmin(k.Brokers, kafkaconfig.Sarama("it-topics"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	all, err := admin.ListTopics()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		d, ok := all[s.Name]
		if !ok {
			t.Fatalf("topic %s missing", s.Name)
		}
		want := s.Partitions
		if want == 0 { // the install's configured count
			want = int32(k.PartitionCount())
		}
		if d.NumPartitions != want || d.ReplicationFactor != 3 {
			t.Errorf("topic %s: %d partitions RF %d, want %d RF 3", s.Name, d.NumPartitions, d.ReplicationFactor, want)
		}
		wantPolicy := "delete"
		if s.Compacted {
			wantPolicy = "compact"
		}
		cfg, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: s.Name})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range cfg {
			got[e.Name] = e.Value
		}
		if got["cleanup.policy"] != wantPolicy || got["min.insync.replicas"] != "2" {
			t.Errorf("topic %s: cleanup.policy=%s min.insync.replicas=%s, want %s and 2", s.Name, got["cleanup.policy"], got["min.insync.replicas"], wantPolicy)
		}
	}

	// A topic that drifted (someone set min.insync.replicas=1) is set back.
	one := "1"
	if err := admin.AlterConfig(sarama.TopicResource, extra.Name, map[string]*string{"min.insync.replicas": &one, "cleanup.policy": strPtr("compact")}, false); err != nil {
		t.Fatal(err)
	}
	// Topic configs reach the brokers asynchronously and a describe goes to
	// any broker, so Ensure may read the config from a broker that has not
	// seen the drift yet (and the check below from one that has not seen the
	// repair): Ensure must set it back within a few runs.
	var mir string
	for try := 1; ; try++ {
		if _, err := topics.Ensure(ctx, k, []topics.Spec{extra}, logger); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		cfg, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: extra.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range cfg {
			if e.Name == "min.insync.replicas" {
				mir = e.Value
			}
		}
		if mir == "2" {
			t.Logf("drift repaired after %d Ensure run(s)", try)
			break
		}
		if try == 10 {
			t.Fatalf("drifted min.insync.replicas left at %s after %d Ensure runs", mir, try)
		}
	}
}

func strPtr(s string) *string { return &s }

// TestEnsureRefusesTooFewBrokers asks for more replicas than the cluster has
// brokers: refused with a clear error, unless the development override is set.
func TestEnsureRefusesTooFewBrokers(t *testing.T) {
	k := testkit.Kafka(t)
	ctx := testkit.Context(t, time.Minute)
	k.Replication = 4
	spec := []topics.Spec{{Name: testkit.UniqueName("it-refused"), Partitions: 1}}
	_, err := topics.Ensure(ctx, k, spec, logger)
	if !errors.Is(err, topics.ErrReplication) {
		t.Fatalf("Ensure with replication 4 on 3 brokers: %v, want ErrReplication", err)
	}
	t.Logf("refused as expected: %v", err)
	k.SingleBrokerDev = true
	rf, err := topics.Ensure(ctx, k, spec, logger)
	if err != nil || rf != 3 {
		t.Fatalf("with the development override: replication %d, %v; want 3 (all brokers)", rf, err)
	}
}

// TestEnsureRejectsWrongPartitionCount keeps a topic whose partition count
// differs from the contract from being used silently.
func TestEnsureRejectsWrongPartitionCount(t *testing.T) {
	k := testkit.Kafka(t)
	ctx := testkit.Context(t, time.Minute)
	name := testkit.UniqueName("it-parts")
	if _, err := topics.Ensure(ctx, k, []topics.Spec{{Name: name, Partitions: 1}}, logger); err != nil {
		t.Fatal(err)
	}
	if _, err := topics.Ensure(ctx, k, []topics.Spec{{Name: name, Partitions: 3}}, logger); err == nil {
		t.Fatal("Ensure accepted a topic with 1 partition where 3 are needed")
	}
}
