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
	// Incidents are the newest versions of the incidents whose activity
	// overlaps day in loc.
	Incidents(ctx context.Context, day string, loc *time.Location) ([]contracts.Incident, error)
}

// KafkaSource reads the metrics-daily, ssh-alerts and ssh-incidents topics
// from their start.
type KafkaSource struct {
	Kafka config.Kafka
	// MetricsTopic, AlertsTopic and IncidentsTopic default to the
	// contract's topics.
	MetricsTopic, AlertsTopic, IncidentsTopic string
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

// Incidents reads the incident topic and keeps the newest version of each
// incident whose activity overlaps the day. A missing topic is no incident.
func (s KafkaSource) Incidents(ctx context.Context, day string, loc *time.Location) ([]contracts.Incident, error) {
	topic := s.IncidentsTopic
	if topic == "" {
		topic = contracts.TopicSSHIncidents
	}
	start, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return nil, fmt.Errorf("incidents of %q: %w", day, err)
	}
	end := start.AddDate(0, 0, 1)
	newest := map[string]contracts.Incident{}
	err = topics.ReadAll(ctx, s.Kafka, topic, func(m *sarama.ConsumerMessage) error {
		var inc contracts.Incident
		if err := json.Unmarshal(m.Value, &inc); err != nil || inc.ID == "" {
			return nil
		}
		if have, ok := newest[inc.ID]; !ok || inc.Version > have.Version {
			newest[inc.ID] = inc
		}
		return nil
	})
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []contracts.Incident
	for _, inc := range newest {
		if inc.FirstEventTime.Before(end) && !inc.LastEventTime.Before(start) {
			out = append(out, inc)
		}
	}
	return out, nil
}
