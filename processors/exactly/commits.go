package exactly

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// commits follows the group's committed offsets of its loopback topic.
//
// Goka commits a message only after every output of it (emits, loopbacks,
// the table write) was acknowledged, and a restarted group resumes at the
// committed offset. So an alert raised by a loopback message below the
// committed offset can never need re-emission: its output is in Kafka and
// its input is never replayed. Pruning kept alerts by this offset keeps the
// IP and user records small (a record is rewritten at every event) without
// giving up re-emission.
type commits struct {
	offsets []atomic.Int64 // per loopback partition; -1 = unknown
}

func newCommits(partitions int) *commits {
	c := &commits{offsets: make([]atomic.Int64, partitions)}
	for i := range c.offsets {
		c.offsets[i].Store(-1)
	}
	return c
}

// committed is the next offset the group would consume in loopback
// partition p after a restart, or -1 when unknown.
func (c *commits) committed(p int32) int64 {
	if c == nil || int(p) >= len(c.offsets) {
		return -1
	}
	return c.offsets[p].Load()
}

// follow polls the group's committed offsets of topic every interval until
// ctx ends. Errors leave the last known offsets (pruning then falls back
// to the offset-distance rule only for what is unknown).
func (c *commits) follow(ctx context.Context, brokers []string, group, topic string, interval time.Duration) error {
	client, err := sarama.NewClient(brokers, kafkaconfig.Sarama("logmon-commits"))
	if err != nil {
		return fmt.Errorf("follow commits of %s: %w", group, err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return fmt.Errorf("follow commits of %s: %w", group, err)
	}
	parts := make([]int32, len(c.offsets))
	for i := range parts {
		parts[i] = int32(i)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if res, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts}); err == nil {
			for _, p := range parts {
				if b := res.GetBlock(topic, p); b != nil && b.Err == sarama.ErrNoError && b.Offset >= 0 {
					// Offsets only grow, except after a reset of the group.
					c.offsets[p].Store(b.Offset)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
