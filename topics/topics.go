// Package topics names log_monitor's Kafka topics and creates them.
//
// Ensure is idempotent and runs at every component's start-up (and as
// `logmon topics`): it creates what is missing, treats "already exists" as
// success (two components starting together race to create the same topic),
// fixes topic configs that drifted, and refuses a cluster that cannot hold
// the replication the project needs.
package topics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// Spec is a topic as the project wants it.
type Spec struct {
	Name string
	// Partitions 0 is the install's configured count
	// (config.Kafka.PartitionCount): ssh-log, ssh-alerts and the
	// processors' own topics take it, so one setting sizes them all.
	Partitions int32
	// Compacted topics keep the latest value per key forever.
	Compacted bool
	// Retention of a non-compacted topic (0 = the broker's default).
	Retention time.Duration
	// Segment is how often the topic rolls a new segment (0 = the
	// broker's default, 7 days); compaction never touches the open one.
	Segment time.Duration
}

// Contract returns the project's own topics: ssh-log and ssh-alerts with
// the configured partition count (Partitions 0), metrics-daily and the
// dead-letter topic with one partition. system-metrics is ensured by its
// writer and readers (the agent, the host stage, the sink) under the names
// they were given.
func Contract() []Spec {
	return []Spec{
		{Name: contracts.TopicSSHLog},
		{Name: contracts.TopicSSHAlerts},
		{Name: contracts.TopicMetricsDaily, Partitions: 1, Compacted: true},
		{Name: contracts.TopicSSHLogDLQ, Partitions: 1},
		{Name: contracts.TopicIngestPositions, Partitions: 1, Compacted: true},
	}
}

// ContractUsing is Contract with ssh-log and ssh-alerts under the names a
// component was given (tests and side-by-side installs use topics of
// their own, which may have another partition count than the contract's).
func ContractUsing(sshLog, sshAlerts string) []Spec {
	specs := Contract()
	for i := range specs {
		switch specs[i].Name {
		case contracts.TopicSSHLog:
			specs[i].Name = sshLog
		case contracts.TopicSSHAlerts:
			specs[i].Name = sshAlerts
		}
	}
	return specs
}

// ErrReplication reports a cluster with too few brokers for the replication asked.
var ErrReplication = errors.New("cluster cannot satisfy the replication factor")

// Resolved returns specs with Partitions 0 replaced by k's partition count.
func Resolved(k config.Kafka, specs []Spec) []Spec {
	out := make([]Spec, len(specs))
	for i, s := range specs {
		if s.Partitions == 0 {
			s.Partitions = int32(k.PartitionCount())
		}
		out[i] = s
	}
	return out
}

// Ensure creates every spec that is missing and checks the ones that exist
// (Partitions 0: k's partition count). It returns the replication it used:
// k.Replication, or fewer only when k.SingleBrokerDev allows a smaller
// cluster.
func Ensure(ctx context.Context, k config.Kafka, specs []Spec, log *slog.Logger) (int, error) {
	specs = Resolved(k, specs)
	cfg := kafkaconfig.Sarama("logmon-topics")
	client, err := connect(ctx, k.Brokers, cfg)
	if err != nil {
		return 0, err
	}
	defer client.Close()

	replication, err := replicationFor(k, len(client.Brokers()))
	if err != nil {
		return 0, err
	}
	if replication < k.Replication {
		log.Warn("development override: topics get fewer replicas than configured; a broker's loss loses data",
			"replication", replication, "configured", k.Replication, "brokers", len(client.Brokers()))
	}

	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return 0, fmt.Errorf("topics: cluster admin: %w", err)
	}
	existing, err := admin.ListTopics()
	if err != nil {
		return 0, fmt.Errorf("topics: list: %w", err)
	}
	for _, s := range specs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := ensureOne(admin, s, existing, replication, log); err != nil {
			return 0, err
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	if err := waitForLeaders(ctx, client, names); err != nil {
		return 0, err
	}
	return replication, nil
}

// replicationFor decides the replication for a cluster of n brokers.
func replicationFor(k config.Kafka, brokers int) (int, error) {
	if brokers >= k.Replication {
		return k.Replication, nil
	}
	if k.SingleBrokerDev {
		return brokers, nil
	}
	return 0, fmt.Errorf("%w: %d broker(s) reachable at %v, topics need replication %d; start a cluster of %d brokers (`logmon stack up` does), or set %s=true for a development cluster",
		ErrReplication, brokers, k.Brokers, k.Replication, k.Replication, config.EnvKafkaSingleDev)
}

func ensureOne(admin sarama.ClusterAdmin, s Spec, existing map[string]sarama.TopicDetail, replication int, log *slog.Logger) error {
	want := topicConfig(s, replication)
	if d, ok := existing[s.Name]; ok {
		if d.NumPartitions != s.Partitions {
			return fmt.Errorf("topic %s has %d partitions, the project needs %d (the partition of a key depends on it): recreate the topic or change the contract", s.Name, d.NumPartitions, s.Partitions)
		}
		if int(d.ReplicationFactor) < replication {
			return fmt.Errorf("%w: topic %s has replication %d, the project needs %d: reassign its partitions", ErrReplication, s.Name, d.ReplicationFactor, replication)
		}
		return alignConfig(admin, s.Name, d.ConfigEntries, want, log)
	}
	detail := &sarama.TopicDetail{
		NumPartitions:     s.Partitions,
		ReplicationFactor: int16(replication),
		ConfigEntries:     want,
	}
	err := admin.CreateTopic(s.Name, detail, false)
	if errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return nil // created by a component starting at the same moment
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", s.Name, err)
	}
	log.Info("created topic", "topic", s.Name, "partitions", s.Partitions, "replication", replication, "compacted", s.Compacted)
	return nil
}

func topicConfig(s Spec, replication int) map[string]*string {
	c := map[string]*string{}
	set := func(k, v string) { c[k] = &v }
	set("min.insync.replicas", strconv.Itoa(minISR(replication)))
	if s.Compacted {
		set("cleanup.policy", "compact")
	} else {
		set("cleanup.policy", "delete")
		if s.Retention > 0 {
			set("retention.ms", strconv.FormatInt(s.Retention.Milliseconds(), 10))
		}
	}
	if s.Segment > 0 {
		set("segment.ms", strconv.FormatInt(s.Segment.Milliseconds(), 10))
	}
	return c
}

func minISR(replication int) int {
	return config.Kafka{Replication: replication}.MinInsyncReplicas()
}

// alignConfig sets the configs the project depends on when they drifted.
func alignConfig(admin sarama.ClusterAdmin, topic string, have, want map[string]*string, log *slog.Logger) error {
	entries := map[string]sarama.IncrementalAlterConfigsEntry{}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if h, ok := have[k]; ok && h != nil && *h == *want[k] {
			continue
		}
		entries[k] = sarama.IncrementalAlterConfigsEntry{Operation: sarama.IncrementalAlterConfigsOperationSet, Value: want[k]}
	}
	if len(entries) == 0 {
		return nil
	}
	if err := admin.IncrementalAlterConfig(sarama.TopicResource, topic, entries, false); err != nil {
		return fmt.Errorf("topic %s: set configs: %w", topic, err)
	}
	log.Info("aligned topic config", "topic", topic, "keys", len(entries))
	return nil
}

// connect opens a client, retrying until ctx ends: components may start
// before the cluster finished electing its controller.
func connect(ctx context.Context, brokers []string, cfg *sarama.Config) (sarama.Client, error) {
	var last error
	for {
		c, err := sarama.NewClient(brokers, cfg)
		if err == nil {
			return c, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to Kafka %v: %w (last error: %v)", brokers, ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
}

// waitForLeaders returns once every partition of the topics has a leader
// and every broker knows them. Brokers learn new topics from the
// controller one by one: a client that asks a broker that has not yet (goka's
// topic manager, checking before it creates) would try to create the topic
// again and fail with "already exists".
func waitForLeaders(ctx context.Context, client sarama.Client, names []string) error {
	for {
		err := client.RefreshMetadata(names...)
		if err == nil {
			err = checkLeaders(client, names)
		}
		if err == nil {
			err = everyBrokerKnows(client, names)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v: waiting for partition leaders: %w (last: %v)", names, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// everyBrokerKnows asks each broker for the topics' metadata itself.
func everyBrokerKnows(client sarama.Client, names []string) error {
	for _, b := range client.Brokers() {
		if err := b.Open(client.Config()); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			return fmt.Errorf("broker %s: %w", b.Addr(), err)
		}
		md, err := b.GetMetadata(&sarama.MetadataRequest{Version: 5, Topics: names})
		if err != nil {
			return fmt.Errorf("broker %s: %w", b.Addr(), err)
		}
		for _, t := range md.Topics {
			if t.Err != sarama.ErrNoError {
				return fmt.Errorf("broker %s: topic %s: %w", b.Addr(), t.Name, t.Err)
			}
			for _, p := range t.Partitions {
				if p.Leader < 0 {
					return fmt.Errorf("broker %s: topic %s partition %d has no leader", b.Addr(), t.Name, p.ID)
				}
			}
		}
	}
	return nil
}

func checkLeaders(client sarama.Client, names []string) error {
	for _, n := range names {
		parts, err := client.Partitions(n)
		if err != nil {
			return fmt.Errorf("topic %s: %w", n, err)
		}
		for _, p := range parts {
			if _, err := client.Leader(n, p); err != nil {
				return fmt.Errorf("topic %s partition %d: %w", n, p, err)
			}
		}
	}
	return nil
}

// Size is the number of offsets a topic holds below its last stable offsets
// (end minus start): for a topic written in transactions it counts each
// transaction's markers too.
type Size struct {
	Topic      string
	Partitions int
	Records    int64
}

// Sizes reports how many records each topic holds.
func Sizes(ctx context.Context, k config.Kafka, names []string) ([]Size, error) {
	client, err := connect(ctx, k.Brokers, kafkaconfig.Sarama("logmon-topics"))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	out := make([]Size, 0, len(names))
	for _, n := range names {
		parts, err := client.Partitions(n)
		if err != nil {
			return nil, fmt.Errorf("topic %s: %w", n, err)
		}
		s := Size{Topic: n, Partitions: len(parts)}
		ends, err := Ends(client, n, parts)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			newest := ends[p]
			oldest, err := client.GetOffset(n, p, sarama.OffsetOldest)
			if err != nil {
				return nil, fmt.Errorf("topic %s/%d: %w", n, p, err)
			}
			s.Records += newest - oldest
		}
		out = append(out, s)
	}
	return out, nil
}

// GroupLag is how many records of the topics a consumer group has not
// committed yet (a group that never committed lags by the whole topic).
func GroupLag(ctx context.Context, k config.Kafka, group string, names []string) (int64, error) {
	parts, err := GroupLagByPartition(ctx, k, group, names)
	var lag int64
	for _, l := range parts {
		lag += l.Lag
	}
	return lag, err
}

// PartitionLag is a group's lag on one partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	Lag       int64
}

// GroupLagByPartition is GroupLag per topic partition.
func GroupLagByPartition(ctx context.Context, k config.Kafka, group string, names []string) ([]PartitionLag, error) {
	client, err := connect(ctx, k.Brokers, kafkaconfig.Sarama("logmon-lag"))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("group %s lag: %w", group, err)
	}
	parts := map[string][]int32{}
	for _, n := range names {
		ps, err := client.Partitions(n)
		if err != nil {
			return nil, fmt.Errorf("group %s lag: topic %s: %w", group, n, err)
		}
		parts[n] = ps
	}
	res, err := admin.ListConsumerGroupOffsets(group, parts)
	if err != nil {
		return nil, fmt.Errorf("group %s lag: %w", group, err)
	}
	var out []PartitionLag
	for _, n := range names {
		ends, err := Ends(client, n, parts[n])
		if err != nil {
			return nil, fmt.Errorf("group %s lag: %w", group, err)
		}
		for _, p := range parts[n] {
			var committed int64
			if b := res.GetBlock(n, p); b != nil && b.Offset > 0 {
				committed = b.Offset
			}
			lag, err := visibleLag(client, n, p, committed, ends[p])
			if err != nil {
				return nil, fmt.Errorf("group %s lag: %w", group, err)
			}
			out = append(out, PartitionLag{Topic: n, Partition: p, Lag: lag})
		}
	}
	return out, nil
}

// visibleLag is end - from, or 0 when nothing a consumer receives lies
// between them (only transaction markers or aborted records): a group that
// consumed everything of a transactional topic commits an offset below its
// end. The count itself includes the markers in between.
func visibleLag(client sarama.Client, topic string, p int32, from, end int64) (int64, error) {
	if from >= end {
		return 0, nil
	}
	oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return 0, fmt.Errorf("%s/%d: %w", topic, p, err)
	}
	pending, err := Pending(client, topic, p, max(from, oldest), end)
	if err != nil {
		return 0, err
	}
	if !pending {
		return 0, nil
	}
	return end - from, nil
}

// ReadAll calls fn with every record of topic up to the end offsets taken
// when it starts (the last stable offsets: records of transactions still
// open then are not read), partition by partition in offset order.
func ReadAll(ctx context.Context, k config.Kafka, topic string, fn func(*sarama.ConsumerMessage) error) error {
	client, err := connect(ctx, k.Brokers, kafkaconfig.Sarama("logmon-reader"))
	if err != nil {
		return err
	}
	defer client.Close()
	return ReadTail(ctx, client, topic, math.MaxInt64, fn)
}

// readPartition reads [start, end) of one partition. Records a consumer
// never receives (transaction markers, aborted records) may end the range:
// when no record arrives for a moment, Pending tells whether any is left.
func readPartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer, topic string, p int32, start, end int64, fn func(*sarama.ConsumerMessage) error) error {
	next := start
	left := func() (bool, error) {
		if next >= end {
			return false, nil
		}
		return Pending(client, topic, p, next, end)
	}
	if more, err := left(); err != nil || !more {
		return err
	}
	pc, err := consumer.ConsumePartition(topic, p, start)
	if err != nil {
		return fmt.Errorf("read %s/%d: %w", topic, p, err)
	}
	defer pc.Close()
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		idle.Reset(200 * time.Millisecond)
		select {
		case m := <-pc.Messages():
			if m.Offset >= end {
				return nil
			}
			if err := fn(m); err != nil {
				return err
			}
			next = m.Offset + 1
			if next >= end {
				return nil
			}
		case <-idle.C:
			more, err := left()
			if err != nil {
				return fmt.Errorf("read %s/%d: %w", topic, p, err)
			}
			if !more {
				return nil
			}
		case err := <-pc.Errors():
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		case <-ctx.Done():
			return fmt.Errorf("read %s/%d: %w", topic, p, ctx.Err())
		}
	}
}

// ReadTail calls fn with the records among the last n offsets of each
// partition of topic (fewer: transaction markers take offsets too), up to
// the last stable offsets taken when it starts, in offset order per
// partition, using client.
func ReadTail(ctx context.Context, client sarama.Client, topic string, n int64, fn func(*sarama.ConsumerMessage) error) error {
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	ends, err := Ends(client, topic, parts)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	for _, p := range parts {
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
		if err := readPartition(ctx, client, consumer, topic, p, max(oldest, ends[p]-n), ends[p], fn); err != nil {
			return err
		}
	}
	return nil
}
