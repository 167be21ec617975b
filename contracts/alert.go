package contracts

import (
	"fmt"
	"time"
)

// Rule names: the alert's rule field, and how the processors' stored state
// names its rules' episodes.
const (
	RuleBruteForce        = "brute_force"
	RuleSlowBruteForce    = "slow_brute_force"
	RuleUserEnumeration   = "user_enumeration"
	RulePasswordSpraying  = "password_spraying"
	RuleDistributedAttack = "distributed_attack"
	RuleCompromise        = "compromise_suspected"
	RuleRootAttempts      = "root_attempts"
)

// RuleNames lists every rule, in a fixed order.
var RuleNames = []string{
	RuleBruteForce, RuleSlowBruteForce, RuleUserEnumeration, RulePasswordSpraying,
	RuleDistributedAttack, RuleCompromise, RuleRootAttempts,
}

// Alert is one detection, the JSON document of the ssh-alerts topic and index
// (connectors/elastic/templates/ssh-alerts.json; fields the template does not
// map are kept in _source only).
type Alert struct {
	// Timestamp is "@timestamp": LastEventTime unless the emitter sets another.
	Timestamp time.Time `json:"@timestamp"`
	// ID is deterministic: a hash of (rule, key, episode start, level, seq), so
	// a replay of the same events gives the same ids (processors/detect.AlertID).
	ID       string `json:"alert_id"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	// Level is the escalation step reached: 0 at the threshold, k when the
	// episode's count reached threshold * EscalationFactor^k.
	Level int `json:"level"`
	// Seq numbers the alerts of one episode from 1 (reminders after Cooldown
	// keep the level and take the next seq).
	Seq int `json:"seq"`
	// IP is the source IP (empty for distributed_attack, whose key is User).
	IP string `json:"ip,omitempty"`
	// User is the key of distributed_attack, the account that logged in for
	// compromise_suspected, "root" for root_attempts, empty otherwise.
	User string `json:"user,omitempty"`
	// Hosts: up to 5 hosts, most recent first.
	Hosts []string `json:"hosts,omitempty"`
	// Users: up to 10 users tried, most recent first (the invalid names for
	// user_enumeration).
	Users []string `json:"users,omitempty"`
	// IPs: distributed_attack's attacking IPs, up to 10, most recent first.
	IPs []string `json:"ips,omitempty"`
	// SampleRowHashes: up to 5 row_hashes of the key's most recent relevant
	// events (failures, invalid users, successes), most recent first.
	SampleRowHashes []string `json:"sample_row_hashes,omitempty"`
	// Count is the episode's count (see the package documentation).
	Count         int64 `json:"count"`
	WindowSeconds int64 `json:"window_seconds"`
	// WindowStart is the start of the shortest window ending at LastEventTime
	// that meets the threshold (the time of the N-th most recent counted event).
	WindowStart time.Time `json:"window_start"`
	// FirstEventTime is the WindowStart of the episode's first alert.
	FirstEventTime time.Time `json:"first_event_time"`
	// LastEventTime is the end of the window that fired (the triggering event's
	// time, or a later kept one when the trigger was a late event).
	LastEventTime time.Time `json:"last_event_time"`
	// EpisodeStart is the LastEventTime of the episode's first alert.
	EpisodeStart time.Time `json:"episode_start"`
	// SameUser (compromise_suspected): User failed from this IP in the window.
	SameUser bool `json:"same_user"`
	// Offset is the source offset of the triggering event.
	Offset  int64  `json:"source_offset"`
	Message string `json:"message"`
}

// Key is the alert's Kafka key: the IP, or the user for distributed_attack.
func (a *Alert) Key() string {
	if a.IP != "" {
		return a.IP
	}
	return a.User
}

// alertVersion is the first byte of Alert's binary encoding.
const alertVersion = 1

// AppendBinary appends a compact binary encoding of the alert to b (for
// processors that keep recent alerts in their state to emit them again on a
// replay; the topic carries JSON). Times keep second precision and come back
// in UTC.
func (a *Alert) AppendBinary(b []byte) ([]byte, error) {
	w := enc{b: append(b, alertVersion)}
	w.varint(a.Timestamp.Unix())
	w.str(a.ID)
	w.str(a.Rule)
	w.str(a.Severity)
	w.uvarint(uint64(a.Level))
	w.uvarint(uint64(a.Seq))
	w.str(a.IP)
	w.str(a.User)
	w.strs(a.Hosts)
	w.strs(a.Users)
	w.strs(a.IPs)
	w.strs(a.SampleRowHashes)
	w.varint(a.Count)
	w.varint(a.WindowSeconds)
	last := a.LastEventTime.Unix()
	w.varint(last)
	w.varint(last - a.WindowStart.Unix())
	w.varint(last - a.FirstEventTime.Unix())
	w.varint(last - a.EpisodeStart.Unix())
	if a.SameUser {
		w.byte(1)
	} else {
		w.byte(0)
	}
	w.varint(a.Offset)
	w.str(a.Message)
	return w.b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler (see AppendBinary).
func (a *Alert) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (a *Alert) UnmarshalBinary(data []byte) error {
	d := &dec{s: string(data)}
	if v := d.byte(); v != alertVersion {
		return fmt.Errorf("contracts: alert encoding version %d unknown", v)
	}
	var x Alert
	x.Timestamp = unixTime(d.varint())
	x.ID = d.str(1 << 10)
	x.Rule = d.str(1 << 10)
	x.Severity = d.str(1 << 10)
	x.Level = int(d.small(1 << 20))
	x.Seq = int(d.small(1 << 40))
	x.IP = d.str(1 << 10)
	x.User = d.str(1 << 10)
	x.Hosts = d.strs()
	x.Users = d.strs()
	x.IPs = d.strs()
	x.SampleRowHashes = d.strs()
	x.Count = d.varint()
	x.WindowSeconds = d.varint()
	last := d.varint()
	x.LastEventTime = unixTime(last)
	x.WindowStart = unixTime(last - d.varint())
	x.FirstEventTime = unixTime(last - d.varint())
	x.EpisodeStart = unixTime(last - d.varint())
	x.SameUser = d.byte() == 1
	x.Offset = d.varint()
	x.Message = d.str(1 << 20)
	if err := d.finish(); err != nil {
		return fmt.Errorf("contracts: decode alert: %w", err)
	}
	*a = x
	return nil
}
