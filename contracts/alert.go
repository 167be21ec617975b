package contracts

import (
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

// Host rules (processors/hoststage): their alerts share the Alert schema,
// with the host name as key (Alert.Host) and a recovery alert when the
// condition ends.
const (
	RuleHostCPUHigh    = "host_cpu_high"
	RuleHostMemoryHigh = "host_memory_high"
	RuleHostDiskFull   = "host_disk_full"
	RuleHostSilent     = "host_silent"
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

	// Host is the key of the host rules (host_*): the server's name.
	Host string `json:"host,omitempty"`
	// Recovery marks the alert that ends a host rule's episode (the
	// condition no longer holds); it shares the episode's EpisodeStart.
	Recovery bool `json:"recovery,omitempty"`
	// Value is what a host rule measured (a 0-1 fraction, or the seconds
	// since the last sample for host_silent), Threshold what it compares
	// it with; MountPoint names host_disk_full's filesystem.
	Value      float64 `json:"value,omitempty"`
	Threshold  float64 `json:"threshold,omitempty"`
	MountPoint string  `json:"mount_point,omitempty"`
	// Component is the key of the pipeline rules: what is unhealthy
	// ("group logmon-tracker", "index/web-1", "elasticsearch", "kafka").
	Component string `json:"component,omitempty"`
	// SSH is the host's SSH activity over the alert's window (host rules):
	// resources and authentication on one timeline.
	SSH *SSHActivity `json:"ssh_activity,omitempty"`
}

// SSHActivity summarises one host's SSH events over a window.
type SSHActivity struct {
	FailedLogins     int64     `json:"failed_logins"`
	SuccessfulLogins int64     `json:"successful_logins"`
	TopSourceIPs     []IPCount `json:"top_source_ips,omitempty"`
}

// Key is the alert's Kafka key: the IP, the user for distributed_attack,
// the host for the host rules, the component for the pipeline rules.
func (a *Alert) Key() string {
	if a.Component != "" {
		return a.Component
	}
	if a.Host != "" && a.IP == "" && a.User == "" {
		return a.Host
	}
	if a.IP != "" {
		return a.IP
	}
	return a.User
}
