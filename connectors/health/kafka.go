package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"golang.org/x/sync/errgroup"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// exactLagLimit: up to this many offsets behind, a partition's lag counts
// the records a consumer would receive (transaction markers and aborted
// records left out) by reading the batch headers; further behind it is the
// offset difference, which overstates by one marker per transaction.
const exactLagLimit = 10_000

// lagWorkers is how many partitions' exact lag are counted at once.
const lagWorkers = 8

// probeBrokers dials every configured broker and asks for its API
// versions: up, or the error.
func probeBrokers(addrs []string) []contracts.BrokerStatus {
	out := make([]contracts.BrokerStatus, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			out[i] = contracts.BrokerStatus{Addr: addr, ID: -1}
			cfg := kafkaconfig.Sarama("logmon-status")
			cfg.Net.DialTimeout = 2 * time.Second
			cfg.Net.ReadTimeout = 3 * time.Second
			b := sarama.NewBroker(addr)
			if err := b.Open(cfg); err != nil {
				out[i].Error = err.Error()
				return
			}
			defer b.Close()
			if _, err := b.ApiVersions(&sarama.ApiVersionsRequest{}); err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Up = true
		})
	}
	wg.Wait()
	return out
}

// clusterState fills the controller, the broker ids and the partitions
// that are under-replicated (fewer in-sync replicas than replicas) or
// offline (no leader).
func clusterState(client sarama.Client, admin sarama.ClusterAdmin, st *contracts.Status) error {
	brokers, controller, err := admin.DescribeCluster()
	if err != nil {
		return fmt.Errorf("describe cluster: %w", err)
	}
	st.Kafka.Controller = controller
	ids := map[string]int32{}
	for _, b := range brokers {
		ids[b.Addr()] = b.ID()
	}
	for i := range st.Kafka.Brokers {
		if id, ok := ids[st.Kafka.Brokers[i].Addr]; ok {
			st.Kafka.Brokers[i].ID = id
		}
	}
	b, err := client.Controller()
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	md, err := b.GetMetadata(&sarama.MetadataRequest{Version: 5})
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			st.Kafka.Partitions++
			name := fmt.Sprintf("%s/%d", t.Name, p.ID)
			switch {
			case p.Leader < 0:
				st.Kafka.OfflineN++
				st.Kafka.Offline = appendSome(st.Kafka.Offline, name)
			case len(p.Isr) < len(p.Replicas):
				st.Kafka.UnderReplicatedN++
				st.Kafka.UnderReplicated = appendSome(st.Kafka.UnderReplicated, name)
			}
		}
	}
	sort.Strings(st.Kafka.Offline)
	sort.Strings(st.Kafka.UnderReplicated)
	return nil
}

// appendSome keeps a list of partition names short: the count says how many.
func appendSome(list []string, name string) []string {
	if len(list) < 50 {
		return append(list, name)
	}
	return list
}

// groups is the lag of every kept consumer group, with whether it grows.
func (c *Collector) groups(client sarama.Client, admin sarama.ClusterAdmin, now time.Time) ([]contracts.GroupStatus, error) {
	all, err := admin.ListConsumerGroups()
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var names []string
	for g := range all {
		if c.keepGroup(g) {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, nil
	}
	descs, err := admin.DescribeConsumerGroups(names)
	if err != nil {
		return nil, fmt.Errorf("describe groups: %w", err)
	}
	out := make([]contracts.GroupStatus, len(names))
	for i, g := range names {
		out[i].Group = g
		for _, d := range descs {
			if d.GroupId == g {
				out[i].State, out[i].Members = d.State, len(d.Members)
			}
		}
	}
	// Committed offsets per group, then the end offsets of every partition
	// any group committed, in one request.
	committed := make([]map[string]map[int32]int64, len(names))
	want := map[string]map[int32]int64{}
	for i, g := range names {
		res, err := admin.ListConsumerGroupOffsets(g, nil)
		if err != nil {
			return out, fmt.Errorf("group %s offsets: %w", g, err)
		}
		committed[i] = offsetBlocks(res)
		if err := addUncommitted(client, committed[i]); err != nil {
			return out, fmt.Errorf("group %s: %w", g, err)
		}
		for t, ps := range committed[i] {
			if want[t] == nil {
				want[t] = map[int32]int64{}
			}
			for p := range ps {
				want[t][p] = sarama.OffsetNewest
			}
		}
	}
	ends, err := admin.ListOffsets(want, &sarama.ListOffsetsOptions{IsolationLevel: sarama.ReadCommitted})
	if err != nil {
		return out, fmt.Errorf("end offsets: %w", err)
	}
	// The exact counts read batch headers from the leaders: in parallel.
	type job struct {
		group, topic string
		p            int32
		committed    int64
		end          int64
	}
	var jobs []job
	var missing []string // partitions whose end is unknown right now
	for i, g := range names {
		for t, ps := range committed[i] {
			for p, off := range ps {
				r := ends[t][p]
				switch {
				case r != nil && (r.Err == nil || r.Err == sarama.ErrNoError):
					jobs = append(jobs, job{g, t, p, off, r.Offset})
				case r != nil && errors.Is(r.Err, sarama.ErrUnknownTopicOrPartition):
					// a deleted topic the group once read
				default:
					missing = append(missing, fmt.Sprintf("%s/%d", t, p))
				}
			}
		}
	}
	lags := make([]int64, len(jobs))
	var eg errgroup.Group
	eg.SetLimit(lagWorkers)
	for j, jb := range jobs {
		eg.Go(func() error {
			from := jb.committed
			if from == noCommit { // the group starts such a partition from its oldest offset
				oldest, err := client.GetOffset(jb.topic, jb.p, sarama.OffsetOldest)
				if err != nil {
					return fmt.Errorf("group %s: %s/%d: %w", jb.group, jb.topic, jb.p, err)
				}
				from = oldest
			}
			lag, err := partitionLag(client, jb.topic, jb.p, from, jb.end)
			if err != nil {
				return fmt.Errorf("group %s lag: %w", jb.group, err)
			}
			lags[j] = lag
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return out, err
	}
	consumed := make([]int64, len(names))
	for j, jb := range jobs {
		i := sort.SearchStrings(names, jb.group)
		g := &out[i]
		g.Partitions = append(g.Partitions, contracts.PartitionStatus{Topic: jb.topic, Partition: jb.p, Committed: jb.committed, End: jb.end, Lag: lags[j]})
		g.Lag += lags[j]
		consumed[i] += max(jb.committed, 0)
	}
	for i := range out {
		g := &out[i]
		sort.Slice(g.Partitions, func(a, b int) bool {
			pa, pb := g.Partitions[a], g.Partitions[b]
			return pa.Topic < pb.Topic || pa.Topic == pb.Topic && pa.Partition < pb.Partition
		})
		c.judge(g, lagPoint{at: now, lag: g.Lag, consumed: consumed[i]})
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("end offsets of %d partitions unknown (leaders moving?), their lag left out: %s", len(missing), strings.Join(missing[:min(len(missing), 50)], ", "))
	}
	return out, nil
}

// noCommit marks a partition the group has not committed yet.
const noCommit = -1

// addUncommitted adds, for each topic the group committed offsets of, the
// partitions it has not committed yet (noCommit): a group reads every
// partition of its topics, and input to a partition it never committed is
// lag too.
func addUncommitted(client sarama.Client, committed map[string]map[int32]int64) error {
	for t, ps := range committed {
		all, err := client.Partitions(t)
		if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			continue // deleted since
		}
		if err != nil {
			return fmt.Errorf("topic %s: %w", t, err)
		}
		for _, p := range all {
			if _, ok := ps[p]; !ok {
				ps[p] = noCommit
			}
		}
	}
	return nil
}

// offsetBlocks are the committed offsets of an offset-fetch answer (the
// answer's layout depends on its version).
func offsetBlocks(res *sarama.OffsetFetchResponse) map[string]map[int32]int64 {
	blocks := res.Blocks
	if len(res.Groups) > 0 {
		blocks = res.Groups[0].Blocks
	}
	out := map[string]map[int32]int64{}
	for t, ps := range blocks {
		for p, b := range ps {
			if b == nil || b.Offset < 0 {
				continue
			}
			if out[t] == nil {
				out[t] = map[int32]int64{}
			}
			out[t][p] = b.Offset
		}
	}
	return out
}

// partitionLag is how many records of the partition between the group's
// committed offset and the end a consumer would still receive.
func partitionLag(client sarama.Client, topic string, p int32, committed, end int64) (int64, error) {
	if committed >= end {
		return 0, nil
	}
	if end-committed > exactLagLimit {
		return end - committed, nil
	}
	return topics.Visible(client, topic, p, committed, end, exactLagLimit)
}

// judge adds the group's newest point to its history and sets Growing and
// Stalled: stalled when, over the whole stall window, the lag stayed above
// zero and either never fell while it grew, or nothing was consumed.
func (c *Collector) judge(g *contracts.GroupStatus, pt lagPoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := append(c.history[g.Group], pt)
	// Keep the points of the window and the one just before it.
	for len(h) > 2 && pt.at.Sub(h[1].at) >= c.cfg.StallWindow {
		h = h[1:]
	}
	c.history[g.Group] = h
	if len(h) >= 2 {
		g.Growing = pt.lag > h[len(h)-2].lag
	}
	first := h[0]
	if pt.at.Sub(first.at) < c.cfg.StallWindow || pt.lag == 0 {
		return
	}
	positive, rising := true, true
	for i, q := range h {
		if q.lag == 0 {
			positive = false
		}
		if i > 0 && q.lag < h[i-1].lag {
			rising = false
		}
	}
	nothingConsumed := pt.consumed == first.consumed
	g.Stalled = positive && (nothingConsumed || rising && pt.lag > first.lag)
	if g.Stalled {
		g.StalledSeconds = pt.at.Sub(first.at).Seconds()
	}
}

// readTopic calls fn with every record of topic, oldest first per partition.
func readTopic(ctx context.Context, client sarama.Client, topic string, fn func(*sarama.ConsumerMessage)) error {
	return topics.ReadTail(ctx, client, topic, math.MaxInt64, func(m *sarama.ConsumerMessage) error {
		fn(m)
		return nil
	})
}

// lastAlert is the alert appended last to the alerts topic.
func lastAlert(ctx context.Context, client sarama.Client, topic string) (*contracts.Alert, error) {
	var last *sarama.ConsumerMessage
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := topics.ReadTail(ctx, client, topic, 8, func(m *sarama.ConsumerMessage) error {
		if last == nil || m.Timestamp.After(last.Timestamp) {
			last = m
		}
		return nil
	})
	if err != nil || last == nil {
		return nil, err
	}
	var a contracts.Alert
	if err := json.Unmarshal(last.Value, &a); err != nil {
		return nil, fmt.Errorf("last alert: %w", err)
	}
	return &a, nil
}

// topicRecords is how many offsets the topic holds (its dead letters).
func topicRecords(client sarama.Client, topic string) (int64, error) {
	parts, err := client.Partitions(topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range parts {
		newest, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, err
		}
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return 0, err
		}
		n += newest - oldest
	}
	return n, nil
}
