package detect

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

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
	case contracts.RuleCompromise:
		return 3
	case contracts.RuleBruteForce, contracts.RulePasswordSpraying, contracts.RuleDistributedAttack, contracts.RuleRootAttempts:
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
func message(a *contracts.Alert, thresh string) string {
	var b strings.Builder
	switch a.Rule {
	case contracts.RuleBruteForce:
		fmt.Fprintf(&b, "brute force from %s: %d failed logins (threshold %s)", a.IP, a.Count, thresh)
	case contracts.RuleSlowBruteForce:
		fmt.Fprintf(&b, "slow brute force from %s: %d failed logins (threshold %s)", a.IP, a.Count, thresh)
	case contracts.RuleUserEnumeration:
		fmt.Fprintf(&b, "user enumeration from %s: %d invalid users tried (threshold %s)", a.IP, a.Count, thresh)
	case contracts.RulePasswordSpraying:
		fmt.Fprintf(&b, "password spraying from %s: %d failed logins on many users (threshold %s)", a.IP, a.Count, thresh)
	case contracts.RuleDistributedAttack:
		fmt.Fprintf(&b, "distributed attack on user %s: %d failed logins from %d+ IPs (threshold %s)", a.User, a.Count, len(a.IPs), thresh)
	case contracts.RuleCompromise:
		same := "a different user than the failures"
		if a.SameUser {
			same = "a user among the failures"
		}
		fmt.Fprintf(&b, "possible compromise: %s logged in from %s (%s) after %d failed logins (threshold %s)", a.User, a.IP, same, a.Count, thresh)
	case contracts.RuleRootAttempts:
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
	if len(a.Users) > 0 && a.Rule != contracts.RuleDistributedAttack {
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
