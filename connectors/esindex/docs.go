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
	// KindIncidents are ssh-incidents records: _id incident_id, index by
	// opened_at (the same for every version), versioned by the incident's
	// version (the newest wins, a replayed older one is stale).
	KindIncidents

	kindCount = iota
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
	case KindIncidents:
		return "incidents"
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
	case KindIncidents:
		return contracts.IndexSSHIncidents
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
	IncidentID   string `json:"incident_id"`
	OpenedAt     string `json:"opened_at"`
	Version      int64  `json:"version"`
}

// docMeta returns a record's _id, the time that picks its index and its
// version (incidents; 0: none).
func docMeta(k Kind, value []byte) (id string, t time.Time, version int64, err error) {
	var m meta
	if err := json.Unmarshal(value, &m); err != nil {
		return "", time.Time{}, 0, fmt.Errorf("not a JSON object: %w", err)
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
	case KindIncidents:
		id, ts, version = m.IncidentID, m.OpenedAt, m.Version
		if version < 1 {
			return "", time.Time{}, 0, fmt.Errorf("incident %s without a version", id)
		}
	}
	if id == "" {
		return "", time.Time{}, 0, fmt.Errorf("no document id: %s record without %s", k, idField(k))
	}
	if ts == "" {
		return id, time.Time{}, version, nil
	}
	if k == KindMetrics {
		t, err = time.Parse("2006-01-02", ts)
	} else {
		t, err = time.Parse(time.RFC3339Nano, ts)
	}
	if err != nil {
		return "", time.Time{}, 0, fmt.Errorf("%s record %s: time %q: %w", k, id, ts, err)
	}
	return id, t, version, nil
}

func idField(k Kind) string {
	switch k {
	case KindAlerts:
		return contracts.FieldAlertID
	case KindMetrics:
		return contracts.FieldMetricDate
	case KindIncidents:
		return contracts.FieldIncidentID
	}
	return contracts.FieldRowHash
}
