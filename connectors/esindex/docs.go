package esindex

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// Kind says how a topic's records become documents.
type Kind int

const (
	// KindEvents are ssh-log records: _id row_hash, index by event_time.
	KindEvents Kind = iota
	// KindAlerts are ssh-alerts records: _id alert_id, index by episode_start
	// (part of the alert id, so a re-emitted alert lands in the same index).
	KindAlerts
	// KindMetrics are metrics-daily records: _id metric_date, index by
	// metric_date, versioned by the record's Kafka offset (latest wins).
	KindMetrics
	// KindHosts are system-metrics records: each becomes Metricbeat-shaped
	// documents (hostdocs.go), indexed by @timestamp.
	KindHosts
)

func (k Kind) String() string {
	switch k {
	case KindEvents:
		return "events"
	case KindAlerts:
		return "alerts"
	case KindMetrics:
		return "metrics"
	case KindHosts:
		return "hosts"
	}
	return "unknown"
}

// Base is the contract index name of the kind.
func (k Kind) Base() string {
	switch k {
	case KindAlerts:
		return contracts.IndexSSHAlerts
	case KindMetrics:
		return contracts.IndexMetricsDaily
	case KindHosts:
		return contracts.IndexSystemMetrics
	}
	return contracts.IndexSSHLog
}

// meta is what the sink reads of a record: its id and its time.
type meta struct {
	RowHash      string `json:"row_hash"`
	EventTime    string `json:"event_time"`
	AlertID      string `json:"alert_id"`
	EpisodeStart string `json:"episode_start"`
	Timestamp    string `json:"@timestamp"`
	MetricDate   string `json:"metric_date"`
}

// docMeta returns a record's _id and the time that picks its index.
func docMeta(k Kind, value []byte) (id string, t time.Time, err error) {
	var m meta
	if err := json.Unmarshal(value, &m); err != nil {
		return "", time.Time{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var ts string
	switch k {
	case KindEvents:
		id, ts = m.RowHash, m.EventTime
	case KindAlerts:
		id, ts = m.AlertID, m.EpisodeStart
		if ts == "" || ts == "0001-01-01T00:00:00Z" {
			ts = m.Timestamp
		}
	case KindMetrics:
		id, ts = m.MetricDate, m.MetricDate
	}
	if id == "" {
		return "", time.Time{}, fmt.Errorf("no document id: %s record without %s", k, idField(k))
	}
	if ts == "" {
		return id, time.Time{}, nil
	}
	if k == KindMetrics {
		t, err = time.Parse("2006-01-02", ts)
	} else {
		t, err = time.Parse(time.RFC3339Nano, ts)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s record %s: time %q: %w", k, id, ts, err)
	}
	return id, t, nil
}

func idField(k Kind) string {
	switch k {
	case KindAlerts:
		return contracts.FieldAlertID
	case KindMetrics:
		return contracts.FieldMetricDate
	}
	return contracts.FieldRowHash
}
