package kafkaconfig_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// partitionKey is producer metadata choosing the partitioning key.
type partitionKey string

func (p partitionKey) PartitionKey() []byte { return []byte(p) }

func newTopic(t *testing.T, prefix string, partitions int32) string {
	t.Helper()
	k := testkit.Kafka(t)
	name := testkit.UniqueName(prefix)
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), k, []topics.Spec{{Name: name, Partitions: partitions}}, logger); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestProduceConsumeAcksAll sends records through a topic like ssh-log with
// the shared configuration and reads every one back, each on the partition
// goka's hash of its partition key chooses.
func TestProduceConsumeAcksAll(t *testing.T) {
	k := testkit.Kafka(t)
	topic := newTopic(t, "it-produce", 3)
	cfg := kafkaconfig.Sarama("it-producer")
	if cfg.Producer.RequiredAcks != sarama.WaitForAll || !cfg.Producer.Idempotent {
		t.Fatalf("shared config: acks=%v idempotent=%v, want WaitForAll and idempotent", cfg.Producer.RequiredAcks, cfg.Producer.Idempotent)
	}
	p, err := sarama.NewSyncProducer(k.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		ip := fmt.Sprintf("10.0.%d.%d", i%7, i%251)
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("row-" + strconv.Itoa(i)),
			Value: sarama.StringEncoder(ip), Metadata: partitionKey(ip)}
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := testkit.ReadAll(t, k, topic)
	if len(got) != n {
		t.Fatalf("read %d records, sent %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, m := range got {
		ip := string(m.Value)
		if want := kafkaconfig.Partition([]byte(ip), 3); m.Partition != want {
			t.Fatalf("record %s (ip %s) on partition %d, goka's hash says %d", m.Key, ip, m.Partition, want)
		}
		seen[string(m.Key)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct keys, want %d", len(seen), n)
	}
}

// TestBrokerKillLosesNoAcknowledgedRecord kills one of the three brokers with
// SIGKILL while 100,000 records are being produced: every record the producer
// reported as acknowledged must be in the topic exactly once. This is the test
// that caught Sarama v1.45.1 losing acknowledged records.
func TestBrokerKillLosesNoAcknowledgedRecord(t *testing.T) {
	k := testkit.Kafka(t)
	st := testkit.Stack(t)
	topic := newTopic(t, "it-brokerkill", 3)
	cfg := kafkaconfig.Sarama("it-brokerkill")
	p, err := sarama.NewAsyncProducer(k.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100000
	const victim = 1 // kafka-1, the broker on 127.0.0.1:9093
	acked := make([]bool, n)
	var failed int
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range p.Successes() {
			acked[m.Metadata.(int)] = true
		}
	}()
	go func() {
		defer wg.Done()
		for range p.Errors() {
			failed++
		}
	}()
	restarted := false
	defer func() {
		if !restarted {
			_ = st.StartKafka(victim)
		}
	}()
	value := make([]byte, 200)
	for i := 0; i < n; i++ {
		if i == n/2 {
			if err := st.KillKafka(context.Background(), victim); err != nil {
				t.Fatal(err)
			}
			t.Logf("killed kafka-%d with SIGKILL after %d records", victim, i)
		}
		v := append([]byte(nil), value...)
		binary.BigEndian.PutUint64(v, uint64(i))
		p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(strconv.Itoa(i)), Value: sarama.ByteEncoder(v), Metadata: i}
	}
	p.AsyncClose()
	wg.Wait()
	if err := st.StartKafka(victim); err != nil {
		t.Fatal(err)
	}
	restarted = true
	if err := st.WaitKafka(testkit.Context(t, 2*time.Minute), 3); err != nil {
		t.Fatal(err)
	}
	var nAcked int
	for _, a := range acked {
		if a {
			nAcked++
		}
	}
	t.Logf("%d acknowledged, %d failed", nAcked, failed)
	if nAcked+failed != n {
		t.Fatalf("acknowledged %d + failed %d != sent %d", nAcked, failed, n)
	}
	count := make([]int, n)
	for _, m := range testkit.ReadAll(t, k, topic) {
		count[binary.BigEndian.Uint64(m.Value)]++
	}
	var lost, dup int
	for i := range count {
		if acked[i] && count[i] == 0 {
			lost++
		}
		if count[i] > 1 {
			dup++
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("%d acknowledged records lost, %d duplicated", lost, dup)
	}
	if nAcked < n*9/10 {
		t.Fatalf("only %d of %d acknowledged: the producer should ride out one broker's loss", nAcked, n)
	}
}

// TestGokaRoundTrip runs a goka processor and a view built with the project's
// options: the group table is created with replication 3 and compaction, the
// processor reads its input from the oldest offset, and the view serves the
// table's values.
func TestGokaRoundTrip(t *testing.T) {
	k := testkit.Kafka(t)
	input := newTopic(t, "it-goka-input", 3)
	group := goka.Group(testkit.UniqueName("it-goka"))

	// Written before the processor starts: only an oldest-first start sees them.
	em, err := goka.NewEmitter(k.Brokers, goka.Stream(input), new(codec.String), kafkaconfig.EmitterOptions(k)...)
	if err != nil {
		t.Fatal(err)
	}
	var emitErr error
	var mu sync.Mutex
	for i := 0; i < 300; i++ {
		prom, err := em.Emit(fmt.Sprintf("ip-%d", i%30), "x")
		if err != nil {
			t.Fatal(err)
		}
		prom.Then(func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				emitErr = err
			}
		})
	}
	if err := em.Finish(); err != nil || emitErr != nil {
		t.Fatal(err, emitErr)
	}

	g := goka.DefineGroup(group,
		goka.Input(goka.Stream(input), new(codec.String), func(ctx goka.Context, _ any) {
			n := int64(0)
			if v := ctx.Value(); v != nil {
				n = v.(int64)
			}
			ctx.SetValue(n + 1)
		}),
		goka.Persist(new(codec.Int64)),
	)
	opts := append(kafkaconfig.ProcessorOptions(k), goka.WithStorageBuilder(storage.DefaultBuilder(t.TempDir())))
	proc, err := goka.NewProcessor(k.Brokers, g, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor: %v", err)
		}
	}()

	view, err := goka.NewView(k.Brokers, goka.GroupTable(group), new(codec.Int64),
		append(kafkaconfig.ViewOptions(k), goka.WithViewStorageBuilder(storage.DefaultBuilder(t.TempDir())))...)
	if err != nil {
		t.Fatal(err)
	}
	vctx, vcancel := context.WithCancel(context.Background())
	vdone := make(chan error, 1)
	go func() { vdone <- view.Run(vctx) }()
	defer func() { vcancel(); <-vdone }()
	select {
	case <-view.WaitRunning():
	case <-time.After(time.Minute):
		t.Fatal("view not running after a minute")
	}

	deadline := time.Now().Add(90 * time.Second)
	for {
		var total, keys int64
		for i := 0; i < 30; i++ {
			v, err := view.Get(fmt.Sprintf("ip-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if v != nil {
				total += v.(int64)
				keys++
			}
		}
		if total == 300 && keys == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("view shows %d of 300 events over %d of 30 keys", total, keys)
		}
		time.Sleep(200 * time.Millisecond)
	}

	admin, err := sarama.NewClusterAdmin(k.Brokers, kafkaconfig.Sarama("it-goka-admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	meta, err := admin.DescribeTopics([]string{string(goka.GroupTable(group))})
	if err != nil || len(meta) != 1 || meta[0].Err != sarama.ErrNoError {
		t.Fatalf("describe table topic: %v %v", err, meta)
	}
	for _, p := range meta[0].Partitions {
		if len(p.Replicas) != 3 {
			t.Fatalf("table partition %d has %d replicas, want 3", p.ID, len(p.Replicas))
		}
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: string(goka.GroupTable(group))})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == "cleanup.policy" && e.Value != "compact" {
			t.Fatalf("table cleanup.policy %q, want compact", e.Value)
		}
	}
}
