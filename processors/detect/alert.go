package detect

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Alert is one detection, the JSON document of the ssh-alerts topic and index
// (connectors/elastic/templates/ssh-alerts.json; fields the template does not
// map are kept in _source only).
type Alert struct {
	// Timestamp is "@timestamp": LastEventTime unless the emitter sets another.
	Timestamp time.Time `json:"@timestamp"`
	// ID is deterministic: a hash of (rule, key, episode start, level, seq), so
	// a replay of the same events gives the same ids (see AlertID).
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
	// Offset is the source offset of the triggering event (Event.Offset).
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

// AlertID is the deterministic id of an episode's seq-th alert at level.
func AlertID(rule, key string, episodeStart int64, level, seq int) string {
	h := sha256.New()
	var b [64]byte
	buf := append(b[:0], rule...)
	buf = append(buf, 0)
	h.Write(buf)
	h.Write([]byte(key))
	buf = append(b[:0], 0)
	buf = binary.AppendVarint(buf, episodeStart)
	buf = binary.AppendUvarint(buf, uint64(level))
	buf = binary.AppendUvarint(buf, uint64(seq))
	h.Write(buf)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Severities, in ascending order.
var severities = []string{"low", "medium", "high", "critical"}

// baseSeverity is each rule's severity at level 0.
func baseSeverity(rule string) int {
	switch rule {
	case RuleCompromise:
		return 3
	case RuleBruteForce, RulePasswordSpraying, RuleDistributedAttack, RuleRootAttempts:
		return 2
	}
	return 1 // slow_brute_force, user_enumeration
}

// Severity is a rule's severity at an escalation level: one step up per
// level, at most critical.
func Severity(rule string, level int) string {
	return severities[min(baseSeverity(rule)+max(level, 0), len(severities)-1)]
}

func unixTime(t int64) time.Time { return time.Unix(t, 0).UTC() }

// fmtDur writes d compactly: "5m", "24h", "1h30m", "90s".
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// message is the alert's one-line summary.
func (a *Alert) message(thresh string) string {
	var b strings.Builder
	switch a.Rule {
	case RuleBruteForce:
		fmt.Fprintf(&b, "brute force from %s: %d failed logins (threshold %s)", a.IP, a.Count, thresh)
	case RuleSlowBruteForce:
		fmt.Fprintf(&b, "slow brute force from %s: %d failed logins (threshold %s)", a.IP, a.Count, thresh)
	case RuleUserEnumeration:
		fmt.Fprintf(&b, "user enumeration from %s: %d invalid users tried (threshold %s)", a.IP, a.Count, thresh)
	case RulePasswordSpraying:
		fmt.Fprintf(&b, "password spraying from %s: %d failed logins on many users (threshold %s)", a.IP, a.Count, thresh)
	case RuleDistributedAttack:
		fmt.Fprintf(&b, "distributed attack on user %s: %d failed logins from %d+ IPs (threshold %s)", a.User, a.Count, len(a.IPs), thresh)
	case RuleCompromise:
		same := "a different user than the failures"
		if a.SameUser {
			same = "a user among the failures"
		}
		fmt.Fprintf(&b, "possible compromise: %s logged in from %s (%s) after %d failed logins (threshold %s)", a.User, a.IP, same, a.Count, thresh)
	case RuleRootAttempts:
		fmt.Fprintf(&b, "root login attempts from %s: %d failed logins on root (threshold %s)", a.IP, a.Count, thresh)
	default:
		fmt.Fprintf(&b, "%s: %s count %d", a.Rule, a.Key(), a.Count)
	}
	if a.Level > 0 {
		fmt.Fprintf(&b, ", escalation %d", a.Level)
	}
	if a.Seq > 1 {
		fmt.Fprintf(&b, ", alert %d of the episode", a.Seq)
	}
	if len(a.Users) > 0 && a.Rule != RuleDistributedAttack {
		fmt.Fprintf(&b, "; users %s", strings.Join(a.Users, ","))
	}
	if len(a.IPs) > 0 {
		fmt.Fprintf(&b, "; IPs %s", strings.Join(a.IPs, ","))
	}
	if len(a.Hosts) > 0 {
		fmt.Fprintf(&b, "; hosts %s", strings.Join(a.Hosts, ","))
	}
	fmt.Fprintf(&b, "; %s to %s", a.WindowStart.Format(time.RFC3339), a.LastEventTime.Format(time.RFC3339))
	return b.String()
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
		return fmt.Errorf("detect: alert encoding version %d unknown", v)
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
		return fmt.Errorf("detect: alert: %w", err)
	}
	*a = x
	return nil
}
