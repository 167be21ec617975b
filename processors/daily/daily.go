// Package daily publishes the metrics-daily documents: it reads the
// tracker's per-partition day aggregates through a view, merges each day's
// partitions, and sends the day's document to the compacted metrics-daily
// topic (key metric_date) while the day fills, at most once per interval and
// only when it changed, and a final document when the day closes.
//
// A day closes by tracker.DayClose: every partition's event time past the
// day's end plus a grace period, or, for the last days of a replay and for
// live days with no more traffic, the wall clock past that point, no input
// left and no change for Idle.
package daily

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// Source gives the per-partition aggregates by day (views.Tracker).
type Source interface {
	Ready() bool
	DayParts() (map[string][]*tracker.DayState, error)
}

// Config sets the emitter's pace and closing rule.
type Config struct {
	Kafka config.Kafka
	Topic string
	// Every is the most often a day's document is sent (default 5 s).
	Every time.Duration
	// Grace is how far event time must pass a day's end before it closes (default 10 min).
	Grace time.Duration
	// Idle closes a day past its end by wall clock that has not changed for this long (default 30 s).
	Idle time.Duration
	Loc  *time.Location
	// Partitions of ssh-log (default Kafka.PartitionCount()): a day closes by event time only
	// once every one of them has passed it.
	Partitions int
	// Lag is the records the processors have not committed yet (negative:
	// unknown); see tracker.DayClose (nil: always 0).
	Lag func() int64
}

// Emitter sends metrics-daily documents.
type Emitter struct {
	cfg  Config
	src  Source
	log  *slog.Logger
	prod sarama.SyncProducer
	now  func() time.Time

	mu   sync.Mutex // Tick runs on its timer and on demand (-until-caught-up)
	sent map[string]contracts.DailyMetrics
}

// New connects the emitter's producer.
func New(cfg Config, src Source, log *slog.Logger) (*Emitter, error) {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicMetricsDaily
	}
	if cfg.Every == 0 {
		cfg.Every = 5 * time.Second
	}
	def := tracker.DefaultDayClose(cfg.Loc, cfg.Kafka.PartitionCount())
	if cfg.Grace == 0 {
		cfg.Grace = def.Grace
	}
	if cfg.Idle == 0 {
		cfg.Idle = def.Idle
	}
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = def.Partitions
	}
	prod, err := sarama.NewSyncProducer(cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-daily"))
	if err != nil {
		return nil, fmt.Errorf("metrics-daily producer: %w", err)
	}
	return &Emitter{cfg: cfg, src: src, log: log, prod: prod, sent: map[string]contracts.DailyMetrics{}, now: time.Now}, nil
}

// Run sends documents every cfg.Every until ctx ends.
func (e *Emitter) Run(ctx context.Context) error {
	defer e.prod.Close()
	tick := time.NewTicker(e.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if !e.src.Ready() {
				continue
			}
			if err := e.Tick(); err != nil {
				e.log.Warn("metrics-daily round failed; retrying next round", "err", err)
			}
		}
	}
}

// Tick sends every day whose document changed since it was last sent.
func (e *Emitter) Tick() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	parts, err := e.src.DayParts()
	if err != nil {
		return err
	}
	now := e.now()
	rule := tracker.DefaultDayClose(e.cfg.Loc, e.cfg.Partitions)
	rule.Grace, rule.Idle, rule.Partitions = e.cfg.Grace, e.cfg.Idle, e.cfg.Partitions
	var lag int64
	if e.cfg.Lag != nil {
		lag = e.cfg.Lag()
	}
	closed := rule.Closing(parts, lag, now)
	days := make([]string, 0, len(parts))
	for d := range parts {
		days = append(days, d)
	}
	sort.Strings(days)
	for _, day := range days {
		doc := tracker.Merge(day, parts[day], now)
		doc.Final = closed(day)
		prev, ok := e.sent[day]
		if ok && same(prev, doc) {
			continue
		}
		if ok && prev.Final {
			e.log.Warn("late events changed a closed day; sending it again", "metric_date", day, "total_logs", doc.TotalLogs, "was", prev.TotalLogs)
		}
		if err := e.send(doc); err != nil {
			return err
		}
		e.sent[day] = doc
	}
	return nil
}

// Documents returns the last document sent per day.
func (e *Emitter) Documents() map[string]contracts.DailyMetrics {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]contracts.DailyMetrics, len(e.sent))
	for k, v := range e.sent {
		out[k] = v
	}
	return out
}

func (e *Emitter) send(doc contracts.DailyMetrics) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("metrics-daily %s: %w", doc.MetricDate, err)
	}
	_, _, err = e.prod.SendMessage(&sarama.ProducerMessage{Topic: e.cfg.Topic, Key: sarama.StringEncoder(doc.MetricDate), Value: sarama.ByteEncoder(b)})
	if err != nil {
		return fmt.Errorf("metrics-daily %s: %w", doc.MetricDate, err)
	}
	return nil
}

// same compares documents without their creation time.
func same(a, b contracts.DailyMetrics) bool {
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
