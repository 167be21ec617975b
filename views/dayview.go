package views

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// NewDayView opens a view over group's table that keeps only the per-day
// aggregates ("d|" keys), in memory: what the metrics emitter reads. The
// table is rewritten at every event and most of it is per-IP and per-user
// state; a full view re-stores all of it in LevelDB (15% of `logmon
// process`'s CPU in the replica benchmark), this one drops it on arrival.
// IP lookups on it find nothing; use NewTracker for those.
func NewDayView(k config.Kafka, group string, log *slog.Logger) (*Tracker, error) {
	if group == "" {
		group = tracker.DefaultGroup
	}
	opts := append(kafkaconfig.ViewOptions(k), goka.WithViewStorageBuilder(dayKeysOnly), goka.WithViewAutoReconnect())
	v, err := goka.NewView(k.Brokers, goka.GroupTable(goka.Group(group)), tracker.TableCodec{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("day view: %w", err)
	}
	return &Tracker{view: v, log: log, partitions: k.PartitionCount()}, nil
}

// dayKeysOnly is an in-memory storage that keeps the "d|" keys only.
func dayKeysOnly(topic string, partition int32) (storage.Storage, error) {
	return dayStorage{storage.NewMemory()}, nil
}

type dayStorage struct{ storage.Storage }

func (s dayStorage) Set(key string, value []byte) error {
	if !strings.HasPrefix(key, tracker.DayKeyPrefix) {
		return nil
	}
	return s.Storage.Set(key, value)
}
