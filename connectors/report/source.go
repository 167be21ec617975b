package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/topics"
)

// ErrNoMetrics: the day has no metrics-daily document (yet).
var ErrNoMetrics = errors.New("no metrics-daily document")

// ErrNotFinal: the day's document is still filling (its day is not closed).
var ErrNotFinal = errors.New("metrics-daily document is not final")

// Source gives a day's metrics and alerts.
type Source interface {
	// Daily is the day's final metrics-daily document.
	Daily(ctx context.Context, day string) (contracts.DailyMetrics, error)
	// Alerts are the distinct alerts whose last event falls on day in loc.
	Alerts(ctx context.Context, day string, loc *time.Location) ([]contracts.Alert, error)
}

// KafkaSource reads the metrics-daily and ssh-alerts topics from their start.
type KafkaSource struct {
	Kafka config.Kafka
	// MetricsTopic and AlertsTopic default to the contract's topics.
	MetricsTopic, AlertsTopic string
}

// Daily reads the compacted metrics-daily topic and returns the day's latest
// document, which must be final.
func (s KafkaSource) Daily(ctx context.Context, day string) (contracts.DailyMetrics, error) {
	topic := s.MetricsTopic
	if topic == "" {
		topic = contracts.TopicMetricsDaily
	}
	var doc contracts.DailyMetrics
	found := false
	err := topics.ReadAll(ctx, s.Kafka, topic, func(m *sarama.ConsumerMessage) error {
		if string(m.Key) != day {
			return nil
		}
		if m.Value == nil { // a tombstone
			found = false
			return nil
		}
		var d contracts.DailyMetrics
		if err := json.Unmarshal(m.Value, &d); err != nil {
			return fmt.Errorf("metrics-daily %s at offset %d: %w", day, m.Offset, err)
		}
		doc, found = d, true
		return nil
	})
	if err != nil {
		return doc, err
	}
	if !found {
		return doc, fmt.Errorf("%w for %s in topic %s", ErrNoMetrics, day, topic)
	}
	if !doc.Final {
		return doc, fmt.Errorf("%w: %s in topic %s (created %s, %d logs so far)", ErrNotFinal, day, topic, doc.CreatedAt.Format(time.RFC3339), doc.TotalLogs)
	}
	return doc, nil
}

// Alerts reads the alert topic and keeps the day's alerts, one per id.
func (s KafkaSource) Alerts(ctx context.Context, day string, loc *time.Location) ([]contracts.Alert, error) {
	topic := s.AlertsTopic
	if topic == "" {
		topic = contracts.TopicSSHAlerts
	}
	var out []contracts.Alert
	seen := map[string]bool{}
	err := topics.ReadAll(ctx, s.Kafka, topic, func(m *sarama.ConsumerMessage) error {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil || a.ID == "" {
			return nil // not an alert: the report counts alerts only
		}
		if seen[a.ID] || a.LastEventTime.In(loc).Format(time.DateOnly) != day {
			return nil
		}
		seen[a.ID] = true
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
