package views

import (
	"fmt"
	"log/slog"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/ipstage"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// NewDayView opens a view over group's day aggregates only (the IP stage's
// days topic, a few records per day), in memory: what the metrics emitter
// reads. IP lookups on it fail; use NewTracker for those.
func NewDayView(k config.Kafka, group string, log *slog.Logger) (*Tracker, error) {
	if group == "" {
		group = tracker.DefaultGroup
	}
	opts := append(kafkaconfig.ViewOptions(k), goka.WithViewStorageBuilder(newestDays), goka.WithViewAutoReconnect())
	v, err := goka.NewView(k.Brokers, goka.Table(ipstage.DaysTopic(group)), ipstage.DayCodec{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("day view: %w", err)
	}
	return &Tracker{days: v, log: log, partitions: k.PartitionCount()}, nil
}

// newestDays is an in-memory storage of day aggregates that keeps, of two
// records of a key, the one that applied more input: a partition's previous
// owner may write its last aggregate after the new owner's first.
func newestDays(topic string, partition int32) (storage.Storage, error) {
	return dayStorage{storage.NewMemory()}, nil
}

type dayStorage struct{ storage.Storage }

func (s dayStorage) Set(key string, value []byte) error {
	next, err := ipstage.DecodeDay(value)
	if err != nil {
		return nil // not an aggregate this version reads: DayParts could not use it
	}
	if old, err := s.Storage.Get(key); err == nil && old != nil {
		if prev, err := ipstage.DecodeDay(old); err == nil && prev.Wm > next.Wm {
			return nil
		}
	}
	return s.Storage.Set(key, value)
}
