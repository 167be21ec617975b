package incidentstage

import (
	"slices"
	"sort"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// KeyState is one key's record in the group's table: its current incident
// and what replays need.
type KeyState struct {
	// Current is the key's latest incident (open, updated or closed).
	Current *contracts.Incident `json:"current,omitempty"`
	// Episodes: each failure rule's episodes (by episode start, unix
	// nanoseconds) and their highest count, for FailedAttempts.
	Episodes map[string]map[int64]int64 `json:"episodes,omitempty"`
	// Applied is the offset of the last message applied, by Source: a
	// message at or below it is a replay after a crash, which emits Sent
	// again (or the current version) and changes nothing.
	Applied [2]int64 `json:"applied"`
	// Sent are the versions the last applied message emitted.
	Sent []*contracts.Incident `json:"sent,omitempty"`
	// LastArrival is the clock when the last alert was applied: the
	// checker closes an incident whose key stayed quiet for the gap of
	// wall-clock time, so a replay at full speed closes nothing early.
	LastArrival time.Time `json:"last_arrival"`
}

// Source says which input a message came from.
type Source int

const (
	FromAlert Source = 0
	FromCheck Source = 1
)

// NewKeyState is the record of a key that has none yet.
func NewKeyState() *KeyState { return &KeyState{Applied: [2]int64{-1, -1}} }

// Replayed reports whether the message at offset of src was applied
// before, and what to emit again: what it emitted when it was the last
// message applied, else the current version.
func (k *KeyState) Replayed(src Source, offset int64) ([]*contracts.Incident, bool) {
	if offset > k.Applied[src] {
		return nil, false
	}
	if offset == k.Applied[src] {
		return k.Sent, true
	}
	if k.Current == nil {
		return nil, true
	}
	return []*contracts.Incident{clone(k.Current)}, true
}

// sent records what the message at offset of src emitted.
func (k *KeyState) sent(src Source, offset int64, out []*contracts.Incident) []*contracts.Incident {
	k.Applied[src], k.Sent = offset, out
	return out
}

// maxListed bounds UsersTried, Hosts and IPs.
const maxListed = 50

// failureRules count failed attempts; their episode counts make
// FailedAttempts.
var failureRules = map[string]bool{
	contracts.RuleBruteForce: true, contracts.RuleSlowBruteForce: true, contracts.RuleRootAttempts: true,
	contracts.RulePasswordSpraying: true, contracts.RuleDistributedAttack: true,
}

// SSHRule reports whether rule's alerts form incidents (the SSH rules;
// host and pipeline rules have their own episodes and recoveries).
func SSHRule(rule string) bool { return slices.Contains(contracts.RuleNames, rule) }

// Apply adds alert a (the message at offset, applied at the clock now) to
// the key's incidents and returns the incident versions to emit: none
// when a was applied before (same id), the closed incident and a new one
// when a's activity starts more than gap after the current incident's
// last event, else the current incident's next version.
func (k *KeyState) Apply(a *contracts.Alert, offset int64, now time.Time, gap time.Duration) []*contracts.Incident {
	k.LastArrival = now
	cur := k.Current
	if cur != nil && cur.Status != contracts.IncidentClosed && slices.Contains(cur.AlertIDs, a.ID) {
		return k.sent(FromAlert, offset, nil) // the same alert again (re-sent after an upstream replay)
	}
	var out []*contracts.Incident
	start := activityStart(a)
	if cur != nil && cur.Status != contracts.IncidentClosed && start.After(cur.LastEventTime.Add(gap)) {
		out = append(out, k.close())
		cur = k.Current
	}
	if cur == nil || cur.Status == contracts.IncidentClosed {
		k.open(a)
	} else {
		k.join(a)
	}
	return k.sent(FromAlert, offset, append(out, clone(k.Current)))
}

// Close (the check at offset) closes the current incident if it is open
// and its key has been quiet since before due; it returns the closed
// version (none: nothing to close).
func (k *KeyState) Close(offset int64, due time.Time) []*contracts.Incident {
	if k.Current == nil || k.Current.Status == contracts.IncidentClosed || k.LastArrival.After(due) {
		return k.sent(FromCheck, offset, nil)
	}
	return k.sent(FromCheck, offset, []*contracts.Incident{k.close()})
}

// DueToClose reports whether the checker should ask to close the key's
// incident at now.
func (k *KeyState) DueToClose(now time.Time, gap time.Duration) bool {
	return k.Current != nil && k.Current.Status != contracts.IncidentClosed && !k.LastArrival.Add(gap).After(now)
}

func (k *KeyState) close() *contracts.Incident {
	k.Current.Status = contracts.IncidentClosed
	k.Current.Version++
	return clone(k.Current)
}

// open starts a new incident with alert a.
func (k *KeyState) open(a *contracts.Alert) {
	inc := &contracts.Incident{ID: contracts.IncidentID(a.ID), Key: a.Key(), KeyType: contracts.KeyTypeIP,
		Status: contracts.IncidentOpen, Version: 1, Severity: a.Severity,
		FirstEventTime: activityStart(a), LastEventTime: a.LastEventTime, OpenedAt: a.Timestamp, UpdatedAt: a.Timestamp}
	if a.IP == "" {
		inc.KeyType = contracts.KeyTypeUser
	}
	k.Current, k.Episodes = inc, nil
	k.add(a)
}

// join adds alert a to the current incident as its next version.
func (k *KeyState) join(a *contracts.Alert) {
	inc := k.Current
	inc.Status = contracts.IncidentUpdated
	inc.Version++
	if contracts.SeverityRank(a.Severity) > contracts.SeverityRank(inc.Severity) {
		inc.Severity = a.Severity
	}
	if s := activityStart(a); s.Before(inc.FirstEventTime) {
		inc.FirstEventTime = s
	}
	if a.LastEventTime.After(inc.LastEventTime) {
		inc.LastEventTime = a.LastEventTime
	}
	if a.Timestamp.After(inc.UpdatedAt) {
		inc.UpdatedAt = a.Timestamp
	}
	k.add(a)
}

// add counts alert a in the current incident.
func (k *KeyState) add(a *contracts.Alert) {
	inc := k.Current
	inc.Timestamp = inc.LastEventTime
	inc.AlertCount++
	if len(inc.AlertIDs) < contracts.MaxIncidentAlertIDs {
		inc.AlertIDs = append(inc.AlertIDs, a.ID)
	}
	if !slices.Contains(inc.Rules, a.Rule) {
		inc.Rules = append(inc.Rules, a.Rule)
		sort.Strings(inc.Rules)
	}
	inc.UsersTried = union(inc.UsersTried, a.Users)
	if a.User != "" {
		inc.UsersTried = union(inc.UsersTried, []string{a.User})
	}
	inc.Hosts = union(inc.Hosts, a.Hosts)
	inc.IPs = union(inc.IPs, a.IPs)
	if a.Rule == contracts.RuleCompromise {
		inc.SuccessfulLogins++
	}
	if failureRules[a.Rule] {
		if k.Episodes == nil {
			k.Episodes = map[string]map[int64]int64{}
		}
		if k.Episodes[a.Rule] == nil {
			k.Episodes[a.Rule] = map[int64]int64{}
		}
		ep := a.EpisodeStart.UnixNano()
		k.Episodes[a.Rule][ep] = max(k.Episodes[a.Rule][ep], a.Count)
		for _, eps := range k.Episodes {
			var sum int64
			for _, n := range eps {
				sum += n
			}
			inc.FailedAttempts = max(inc.FailedAttempts, sum)
		}
	}
}

// activityStart is when the alert's activity began: the first event of
// its episode (its window's start when that is unknown).
func activityStart(a *contracts.Alert) time.Time {
	if !a.FirstEventTime.IsZero() {
		return a.FirstEventTime
	}
	return a.WindowStart
}

// union adds the names of add not in list yet, keeping at most maxListed.
func union(list, add []string) []string {
	for _, s := range add {
		if len(list) >= maxListed {
			break
		}
		if s != "" && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

func clone(inc *contracts.Incident) *contracts.Incident {
	c := *inc
	c.Rules = slices.Clone(inc.Rules)
	c.AlertIDs = slices.Clone(inc.AlertIDs)
	c.UsersTried = slices.Clone(inc.UsersTried)
	c.Hosts = slices.Clone(inc.Hosts)
	c.IPs = slices.Clone(inc.IPs)
	return &c
}
