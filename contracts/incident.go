package contracts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// TopicSSHIncidents carries every version of every incident (key as the
// alerts': the IP, or the user for distributed_attack); IndexSSHIncidents
// holds the newest version of each (_id the incident id).
const (
	TopicSSHIncidents = "ssh-incidents"
	IndexSSHIncidents = "ssh-incidents"
	FieldIncidentID   = "incident_id" // ssh-incidents' id
)

// Incident statuses: open at the first alert, updated by each later one,
// closed once its key stayed quiet for the gap.
const (
	IncidentOpen    = "open"
	IncidentUpdated = "updated"
	IncidentClosed  = "closed"
)

// Incident key types.
const (
	KeyTypeIP   = "ip"
	KeyTypeUser = "user"
)

// Incident is the alerts of one key (the IP, or the user for
// distributed_attack) whose activity overlaps or follows within a gap:
// what an on-call engineer wants as one message (docs/contracts.md,
// "Incidents"). Each change is a new version under the same id.
type Incident struct {
	// Timestamp is "@timestamp": LastEventTime.
	Timestamp time.Time `json:"@timestamp"`
	// ID is deterministic: a hash of the incident's first alert id.
	ID      string `json:"incident_id"`
	Key     string `json:"key"`
	KeyType string `json:"key_type"`
	Status  string `json:"status"`
	// Version counts the incident's changes from 1: of two records of one
	// incident the higher version is the newer.
	Version  int64  `json:"version"`
	Severity string `json:"severity"`
	// Rules that fired in the incident, sorted.
	Rules []string `json:"rules"`
	// AlertIDs in the order they joined (at most MaxIncidentAlertIDs;
	// AlertCount counts them all).
	AlertIDs   []string `json:"alert_ids"`
	AlertCount int      `json:"alert_count"`
	// FailedAttempts: the largest failure count of one rule over the
	// incident (each episode's highest count, summed over its episodes).
	FailedAttempts int64 `json:"failed_attempts"`
	// UsersTried and Hosts: what the alerts named (at most 50 each).
	UsersTried []string `json:"users_tried,omitempty"`
	Hosts      []string `json:"hosts,omitempty"`
	// SuccessfulLogins: compromise_suspected alerts, each a login that
	// succeeded after failures.
	SuccessfulLogins int64     `json:"successful_logins"`
	FirstEventTime   time.Time `json:"first_event_time"`
	LastEventTime    time.Time `json:"last_event_time"`
	// OpenedAt and UpdatedAt are the times of the first and latest alert
	// (event time: a replay gives the same values).
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// IPs: distributed_attack's attacking IPs (a user's incident).
	IPs []string `json:"ips,omitempty"`
}

// MaxIncidentAlertIDs bounds Incident.AlertIDs.
const MaxIncidentAlertIDs = 500

// IncidentID is the id of the incident whose first alert is firstAlertID.
func IncidentID(firstAlertID string) string {
	sum := sha256.Sum256([]byte("incident\x00" + firstAlertID))
	return hex.EncodeToString(sum[:16])
}

// SeverityRank orders severities: low < medium < high < critical (0 for
// an unknown one).
func SeverityRank(s string) int {
	switch s {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}

// IncidentSettings are the incident settings: under "incidents" in the
// rules file, overridden by the environment (INCIDENT_GAP,
// INCIDENT_SETTLE, INCIDENT_BACKFILL_AFTER, INCIDENT_CLOSING_SUMMARY).
type IncidentSettings struct {
	// Gap: a key's alerts whose activity follows within it are one
	// incident; a key quiet this long closes its incident.
	Gap time.Duration `yaml:"gap" json:"gap"`
	// Settle: the first mail of an incident waits this long, so that a
	// burst that trips several rules is one mail.
	Settle time.Duration `yaml:"settle" json:"settle"`
	// BackfillAfter: incidents whose last event lies further behind the
	// clock are not mailed one by one but in one backfill summary.
	BackfillAfter time.Duration `yaml:"backfill_after" json:"backfill_after"`
	// ClosingSummary mails a last reply when an incident closes.
	ClosingSummary bool `yaml:"closing_summary" json:"closing_summary"`
}

// DefaultIncidentSettings: a 1 h gap, a 30 s settle, a 1 h backfill
// bound, no closing summary.
func DefaultIncidentSettings() IncidentSettings {
	return IncidentSettings{Gap: time.Hour, Settle: 30 * time.Second, BackfillAfter: time.Hour}
}

// Validate reports settings out of range.
func (s IncidentSettings) Validate() error {
	switch {
	case s.Gap < time.Minute || s.Gap > 7*24*time.Hour:
		return fmt.Errorf("incidents.gap = %s: must be 1m..168h", s.Gap)
	case s.Settle < 0 || s.Settle > time.Hour:
		return fmt.Errorf("incidents.settle = %s: must be 0..1h", s.Settle)
	case s.BackfillAfter < time.Minute:
		return fmt.Errorf("incidents.backfill_after = %s: must be at least 1m", s.BackfillAfter)
	}
	return nil
}
