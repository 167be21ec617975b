// Package kafkaconfig is the one Kafka client configuration of log_monitor.
// Every producer, consumer, goka processor, view and topic manager is built
// from here, so no component can drift back to Sarama's or goka's defaults
// (acks=1, newest-offset start, replication 2), which lose data.
package kafkaconfig

import (
	"hash"
	"hash/fnv"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
)

// Version is the Kafka protocol version the clients speak. Kafka 4 removed
// the request versions older than 2.1 (KIP-896); 3.6 works against 3.6+ and 4.x.
var Version = sarama.V3_6_0_0

// Producer tuning measured on the replica (benchmarks/README.md): goka's
// 10 ms flush made the brokers burn a core on tiny requests.
const (
	FlushFrequency = 50 * time.Millisecond
	// FlushBytes is also the largest request batch: brokers refuse record
	// batches over their message.max.bytes (1,048,588 by default).
	FlushBytes = 1000000
	// ChannelBufferSize sizes every channel of Sarama's producers and
	// consumers (and goka's partition queues). A consumed message keeps its
	// whole decompressed fetch alive, so deep queues hold many fetches:
	// 4096 cost `logmon process` about 50 MiB of heap, and 256 is as fast.
	ChannelBufferSize = 256
	// StreamRetention is how long goka's loopback (repartition) topics keep data.
	StreamRetention = 7 * 24 * time.Hour
)

// ProducerRetries is how often a producer resends a record (ProducerBackoff
// apart) before it reports the send failed.
const ProducerRetries = 300

// ProducerBackoff waits 100 ms before the first retry, doubling up to 2 s.
func ProducerBackoff(retries, _ int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < retries && d < 2*time.Second; i++ {
		d *= 2
	}
	return min(d, 2*time.Second)
}

// Sarama returns a fresh client configuration with the project's guarantees:
// idempotent producer with acks=all (no loss, no reordering on retry), lz4
// batches, consumers that start from the oldest offset.
func Sarama(clientID string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = clientID
	c.Version = Version
	c.ChannelBufferSize = ChannelBufferSize

	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Idempotent = true
	c.Net.MaxOpenRequests = 1 // required by Sarama's idempotent producer
	// Sarama keeps a retry slot per allowed retry in every partition
	// producer: 1<<20 retries cost 32 MiB per topic partition written
	// (576 MiB of `logmon process`'s 1 GiB heap). ProducerRetries with
	// ProducerBackoff keep retrying for about ten minutes, long past a
	// leader election; past that the send fails and the component stops
	// with the error (its inputs are not committed, so nothing is lost).
	c.Producer.Retry.Max = ProducerRetries
	c.Producer.Retry.BackoffFunc = ProducerBackoff
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Compression = sarama.CompressionLZ4
	c.Producer.Flush.Frequency = FlushFrequency
	c.Producer.Flush.Bytes = FlushBytes
	c.Producer.MaxMessageBytes = FlushBytes
	c.Producer.Partitioner = GokaPartitioner

	c.Consumer.Return.Errors = true
	// ssh-log is written in transactions (the exactly-once ingest): no
	// consumer may see records of an aborted or still open transaction.
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.MaxProcessingTime = time.Second
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{goka.CopartitioningStrategy}
	c.Metadata.Retry.Max = 10
	c.Metadata.Retry.Backoff = 500 * time.Millisecond
	return c
}

// Transactional returns the configuration of a transactional producer with
// the stable transactional id txnID: the records it sends between BeginTxn
// and CommitTxn become visible to read_committed consumers together, or not
// at all. A second producer with the same id fences this one (its next
// commit fails with ErrProducerFenced) and aborts its open transaction.
// timeout bounds how long a transaction may stay open; it is also how long
// a producer killed mid-transaction blocks read_committed consumers of the
// partitions it wrote, unless it is restarted with the same id.
func Transactional(clientID, txnID string, timeout time.Duration) *sarama.Config {
	c := Sarama(clientID)
	c.Producer.Transaction.ID = txnID
	c.Producer.Transaction.Timeout = timeout
	c.Producer.Transaction.Retry.Max = 50
	// A commit waits for the records still lingering in the producer: with
	// the 50 ms linger of the other producers half of each commit was that
	// wait (replica: commit 80 ms -> 45 ms, 4.4 s -> 3.9 s). Within a
	// transaction the records come in bulk, so FlushBytes still fills the
	// requests.
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	// The broker refuses the next transaction (CONCURRENT_TRANSACTIONS)
	// while it writes the previous one's markers, about twice per
	// transaction: a short fixed wait keeps the producer from idling.
	c.Producer.Transaction.Retry.BackoffFunc = func(int, int) time.Duration { return 5 * time.Millisecond }
	return c
}

// TopicManagerConfig makes goka create its tables (compacted) and loopbacks
// with the project's replication instead of goka's 2.
func TopicManagerConfig(k config.Kafka) *goka.TopicManagerConfig {
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = k.Replication
	tm.Stream.Replication = k.Replication
	tm.Stream.Retention = StreamRetention
	tm.MismatchBehavior = goka.TMConfigMismatchBehaviorWarn
	tm.CreateTopicTimeout = 30 * time.Second
	return tm
}

// UseForGoka installs the project's configuration as goka's global default,
// so even a goka builder someone forgets to pass gets acks=all and oldest-first.
func UseForGoka() {
	goka.ReplaceGlobalConfig(Sarama("logmon-goka"))
}

// ProcessorOptions are the goka client options every processor of the
// project takes. They commit offsets as Sarama does (the highest mark):
// the project's groups take exactly.ProcessorOptions, which add in-order
// commits over these.
func ProcessorOptions(k config.Kafka) []goka.ProcessorOption {
	return []goka.ProcessorOption{
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(Sarama("logmon-topic-manager"), TopicManagerConfig(k))),
		goka.WithProducerBuilder(goka.ProducerBuilderWithConfig(Sarama("logmon-processor"))),
		goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(Sarama("logmon-processor"))),
		goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(Sarama("logmon-processor"))),
		goka.WithHasher(Hasher),
	}
}

// ViewOptions are the goka options every view of the project takes.
func ViewOptions(k config.Kafka) []goka.ViewOption {
	return []goka.ViewOption{
		goka.WithViewTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(Sarama("logmon-topic-manager"), TopicManagerConfig(k))),
		goka.WithViewConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(Sarama("logmon-view"))),
		goka.WithViewHasher(Hasher),
	}
}

// EmitterOptions are the goka options every emitter of the project takes.
func EmitterOptions(k config.Kafka) []goka.EmitterOption {
	return []goka.EmitterOption{
		goka.WithEmitterTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(Sarama("logmon-topic-manager"), TopicManagerConfig(k))),
		goka.WithEmitterProducerBuilder(goka.ProducerBuilderWithConfig(Sarama("logmon-emitter"))),
		goka.WithEmitterHasher(Hasher),
	}
}

// Hasher is goka's key hash (FNV-32a). Every producer of a topic that goka
// reads by key must spread keys with it.
func Hasher() hash.Hash32 { return fnv.New32a() }

// Partition is the partition goka assigns to key among n partitions.
// It matches goka's Processor.hash; the one input goka maps to a negative
// number (hash == MinInt32) is folded into range instead.
func Partition(key []byte, n int32) int32 {
	h := fnv.New32a()
	h.Write(key)
	v := int32(h.Sum32())
	if v < 0 {
		v = -v
	}
	p := v % n
	if p < 0 {
		p += n
	}
	return p
}

// GokaPartitioner spreads messages the way goka does. A message whose
// Metadata implements Partitioned is placed by its PartitionKey instead of its
// message key:
// `ssh-log` is keyed by row_hash but partitioned by the source IP, so each IP's
// events stay in order on one partition.
func GokaPartitioner(topic string) sarama.Partitioner { return gokaPartitioner{} }

// Partitioned is implemented by a ProducerMessage's Metadata that chooses
// the key used for partitioning.
type Partitioned interface{ PartitionKey() []byte }

type gokaPartitioner struct{}

func (gokaPartitioner) RequiresConsistency() bool { return true }

func (gokaPartitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	if p, ok := m.Metadata.(Partitioned); ok {
		return Partition(p.PartitionKey(), n), nil
	}
	if m.Key == nil {
		return 0, nil
	}
	k, err := m.Key.Encode()
	if err != nil {
		return -1, err
	}
	return Partition(k, n), nil
}
