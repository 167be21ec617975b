package hoststage

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// Host states, as the API shows them.
const (
	StateOK       = "ok"
	StateWarning  = "warning"  // a level is above its threshold, not yet for long enough
	StateCritical = "critical" // a host rule's episode is open
	StateSilent   = "silent"   // no sample for the silent rule's intervals
)

// HostState is one host's record in the group's table: its latest sample,
// the runs of the sustained rules, the open episodes and the alerts raised
// recently (for replays).
type HostState struct {
	Host string `json:"host"`
	// Latest is the newest sample applied; Recent sums up the last
	// keepRecent samples, oldest first (the API's short history).
	Latest contracts.HostSample `json:"latest"`
	Recent []Point              `json:"recent,omitempty"`
	State  string               `json:"state"`
	// Since: when the level of a sustained rule went above its threshold
	// (absent: it is not above), by rule.
	Since map[string]time.Time `json:"since,omitempty"`
	// Episodes open, by rule.
	Episodes map[string]*Episode `json:"episodes,omitempty"`
	// Applied is the offset of the last sample, check and SSH activity
	// record applied (by Source): a message at or below it is a replay
	// after a crash, whose alerts are emitted again from Sent and whose
	// state is not touched.
	Applied [3]int64 `json:"applied"`
	// SSH is the host's SSH activity by minute (unix seconds / 60), the
	// last keepSSH of event time.
	SSH map[int64]*contracts.MinuteActivity `json:"ssh,omitempty"`
	// Sent are the alerts of the last few applied messages.
	Sent []Sent `json:"sent,omitempty"`
}

// Point is one sample summed up: the levels the host rules watch.
type Point struct {
	Time       time.Time `json:"t"`
	CPUNorm    float64   `json:"cpu"`
	MemoryUsed float64   `json:"mem"`
	DiskMax    float64   `json:"disk"`
	Load1      float64   `json:"load1"`
	// NetIn and NetOut are the byte counters summed over the interfaces
	// (absent in state written before they were kept).
	NetIn  uint64 `json:"net_in,omitempty"`
	NetOut uint64 `json:"net_out,omitempty"`
}

// keepRecent is how many samples Recent keeps: 5 minutes at the default
// interval.
const keepRecent = 30

// Episode is a host rule's episode: from its first alert to its recovery.
type Episode struct {
	Start     time.Time `json:"start"`
	Seq       int       `json:"seq"`
	LastAlert time.Time `json:"last_alert"`
}

// Sent is an alert and the message that raised it.
type Sent struct {
	Source Source           `json:"source"`
	Offset int64            `json:"offset"`
	Alert  *contracts.Alert `json:"alert"`
}

// Source says which input a message came from.
type Source int

const (
	FromSample   Source = 0
	FromCheck    Source = 1
	FromActivity Source = 2
)

// keepSSH is how much SSH activity a record keeps, and maxIPsPerMinute
// how many source IPs per minute (the most failing; the others count in
// the totals only).
const (
	keepSSH         = 2 * time.Hour
	maxIPsPerMinute = 50
)

// keepSent is how many alerts a record keeps for replays: a replay reaches
// back to the last commit, a fraction of a second of input.
const keepSent = 16

// NewHostState returns the empty record of host.
func NewHostState(host string) *HostState {
	return &HostState{Host: host, State: StateOK, Applied: [3]int64{-1, -1, -1}}
}

// Replayed returns the alerts the message at offset of src raised when it
// was applied, and true, if it was applied already.
func (h *HostState) Replayed(src Source, offset int64) ([]*contracts.Alert, bool) {
	if offset > h.Applied[src] {
		return nil, false
	}
	var out []*contracts.Alert
	for _, s := range h.Sent {
		if s.Source == src && s.Offset == offset {
			out = append(out, s.Alert)
		}
	}
	return out, true
}

// AddActivity applies an SSH activity record (the message at offset).
func (h *HostState) AddActivity(act *contracts.HostActivity, offset int64) {
	h.Applied[FromActivity] = offset
	if h.SSH == nil {
		h.SSH = map[int64]*contracts.MinuteActivity{}
	}
	newest := int64(0)
	for i := range act.Minutes {
		a := &act.Minutes[i]
		m := a.Minute.Unix() / 60
		if h.SSH[m] == nil {
			h.SSH[m] = &contracts.MinuteActivity{Minute: a.Minute}
		}
		h.SSH[m].Add(a)
		capIPs(h.SSH[m])
	}
	for m := range h.SSH {
		newest = max(newest, m)
	}
	for m := range h.SSH {
		if m < newest-int64(keepSSH/time.Minute) {
			delete(h.SSH, m)
		}
	}
}

// capIPs keeps a minute's maxIPsPerMinute most failing IPs.
func capIPs(a *contracts.MinuteActivity) {
	if len(a.FailedByIP) <= maxIPsPerMinute {
		return
	}
	top := topIPs(a.FailedByIP, maxIPsPerMinute)
	a.FailedByIP = make(map[string]int64, len(top))
	for _, c := range top {
		a.FailedByIP[c.IP] = c.Cnt
	}
}

// topIPs are the n IPs with the most failures, ties by IP.
func topIPs(byIP map[string]int64, n int) []contracts.IPCount {
	out := make([]contracts.IPCount, 0, len(byIP))
	for ip, c := range byIP {
		out = append(out, contracts.IPCount{IP: ip, Cnt: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cnt != out[j].Cnt {
			return out[i].Cnt > out[j].Cnt
		}
		return out[i].IP < out[j].IP
	})
	return out[:min(n, len(out))]
}

// SSHActivity sums the host's SSH activity of the minutes from from's to
// to's, with the 5 most failing source IPs.
func (h *HostState) SSHActivity(from, to time.Time) *contracts.SSHActivity {
	out := &contracts.SSHActivity{}
	byIP := map[string]int64{}
	for _, m := range h.minutesIn(from, to) {
		a := h.SSH[m]
		out.FailedLogins += a.Failed
		out.SuccessfulLogins += a.Succeeded
		for ip, n := range a.FailedByIP {
			byIP[ip] += n
		}
	}
	out.TopSourceIPs = topIPs(byIP, 5)
	return out
}

// minutesIn lists the keys of h.SSH (unix minutes) from from to to, in no order.
func (h *HostState) minutesIn(from, to time.Time) []int64 {
	var keys []int64
	for m := range h.SSH {
		if m >= from.Unix()/60 && m <= to.Unix()/60 {
			keys = append(keys, m)
		}
	}
	return keys
}

// SSHMinutes is the host's SSH activity per minute from from to to,
// oldest first, minutes without activity left out.
func (h *HostState) SSHMinutes(from, to time.Time) []contracts.MinuteActivity {
	keys := h.minutesIn(from, to)
	slices.Sort(keys)
	out := make([]contracts.MinuteActivity, 0, len(keys))
	for _, m := range keys {
		a := *h.SSH[m]
		a.Minute = time.Unix(m*60, 0).UTC()
		out = append(out, a)
	}
	return out
}

// Observe applies a sample (the message at offset) and returns the alerts
// it raises. A sample not newer than the latest (an agent's re-send after a
// crash) changes nothing.
func (h *HostState) Observe(s *contracts.HostSample, offset int64, r *detect.Rules) []*contracts.Alert {
	h.Applied[FromSample] = offset
	if !h.Latest.Timestamp.IsZero() && !s.Timestamp.After(h.Latest.Timestamp) {
		return nil
	}
	var out []*contracts.Alert
	now := s.Timestamp
	if gap := silentAfter(&h.Latest, r); !h.Latest.Timestamp.IsZero() && gap > 0 && now.Sub(h.Latest.Timestamp) > gap {
		// The runs did not hold over the gap: they start again.
		h.Since = nil
	}
	if ep := h.Episodes[contracts.RuleHostSilent]; ep != nil {
		out = append(out, h.recover(contracts.RuleHostSilent, now, now.Sub(h.Latest.Timestamp).Seconds(), 0, ""))
	}
	h.Latest = *s
	_, disk := s.MaxFilesystemUsedPct()
	p := Point{Time: s.Timestamp, CPUNorm: s.CPU.Norm.Busy(), MemoryUsed: s.Memory.ActualUsedPct, DiskMax: disk, Load1: s.Load.Load1}
	for _, n := range s.Network {
		p.NetIn += n.InBytes
		p.NetOut += n.OutBytes
	}
	h.Recent = append(h.Recent, p)
	if n := len(h.Recent) - keepRecent; n > 0 {
		h.Recent = append(h.Recent[:0], h.Recent[n:]...)
	}
	hr := r.Hosts
	out = h.sustained(out, contracts.RuleHostCPUHigh, hr.CPU, s.CPU.Norm.Busy(), now, "", r.Cooldown)
	out = h.sustained(out, contracts.RuleHostMemoryHigh, hr.Memory, s.Memory.ActualUsedPct, now, "", r.Cooldown)
	mount, pct := s.MaxFilesystemUsedPct()
	out = h.sustained(out, contracts.RuleHostDiskFull, hr.Disk, pct, now, mount, r.Cooldown)
	h.setState()
	h.remember(FromSample, offset, out)
	return out
}

// Check applies a silence check taken at now (the message at offset) and
// returns the alerts it raises.
func (h *HostState) Check(now time.Time, offset int64, r *detect.Rules) []*contracts.Alert {
	h.Applied[FromCheck] = offset
	gap := silentAfter(&h.Latest, r)
	if gap == 0 || h.Latest.Timestamp.IsZero() {
		return nil
	}
	since := now.Sub(h.Latest.Timestamp)
	if since <= gap {
		return nil
	}
	var out []*contracts.Alert
	ep := h.Episodes[contracts.RuleHostSilent]
	switch {
	case ep == nil:
		ep = h.open(contracts.RuleHostSilent, h.Latest.Timestamp)
	case now.Sub(ep.LastAlert) >= r.Cooldown && r.Cooldown > 0:
	default:
		return nil
	}
	ep.Seq++
	ep.LastAlert = now
	a := h.alert(contracts.RuleHostSilent, ep, now, since.Seconds(), gap.Seconds(), "")
	a.WindowStart = h.Latest.Timestamp
	a.WindowSeconds = int64(since.Seconds())
	out = append(out, a)
	h.setState()
	h.remember(FromCheck, offset, out)
	return out
}

// silentAfter is how long without a sample makes the host silent (0: the
// rule is off or the interval unknown).
func silentAfter(latest *contracts.HostSample, r *detect.Rules) time.Duration {
	if r.Hosts.Silent.Disabled || latest.IntervalSeconds <= 0 {
		return 0
	}
	return time.Duration(r.Hosts.Silent.Intervals * latest.IntervalSeconds * float64(time.Second))
}

// sustained runs one level rule on a sample's value.
func (h *HostState) sustained(out []*contracts.Alert, rule string, s detect.Sustained, value float64, now time.Time, mount string, cooldown time.Duration) []*contracts.Alert {
	ep := h.Episodes[rule]
	if s.Disabled || value <= s.Above {
		delete(h.Since, rule)
		if ep != nil {
			out = append(out, h.recover(rule, now, value, s.Above, mount))
		}
		return out
	}
	since, ok := h.Since[rule]
	if !ok {
		if h.Since == nil {
			h.Since = map[string]time.Time{}
		}
		since = now
		h.Since[rule] = since
	}
	switch {
	case ep == nil && now.Sub(since) >= s.For:
		ep = h.open(rule, since)
	case ep != nil && cooldown > 0 && now.Sub(ep.LastAlert) >= cooldown:
	default:
		return out
	}
	ep.Seq++
	ep.LastAlert = now
	a := h.alert(rule, ep, now, value, s.Above, mount)
	a.WindowStart = since
	a.WindowSeconds = int64(s.For.Seconds())
	return append(out, a)
}

func (h *HostState) open(rule string, start time.Time) *Episode {
	if h.Episodes == nil {
		h.Episodes = map[string]*Episode{}
	}
	ep := &Episode{Start: start}
	h.Episodes[rule] = ep
	return ep
}

// recover ends rule's episode with its recovery alert.
func (h *HostState) recover(rule string, now time.Time, value, threshold float64, mount string) *contracts.Alert {
	ep := h.Episodes[rule]
	delete(h.Episodes, rule)
	a := h.alert(rule, ep, now, value, threshold, mount)
	a.Recovery = true
	a.Severity = "low"
	a.ID = detect.AlertID(rule+"/recovery", h.Host, ep.Start.Unix(), 0, ep.Seq)
	a.Message = fmt.Sprintf("%s recovered on %s after %s", rule, h.Host, now.Sub(ep.Start).Round(time.Second))
	return a
}

// alert is the alert of rule's episode ep at now.
func (h *HostState) alert(rule string, ep *Episode, now time.Time, value, threshold float64, mount string) *contracts.Alert {
	a := &contracts.Alert{
		Timestamp: now, Rule: rule, Severity: "high", Seq: ep.Seq, Host: h.Host, Hosts: []string{h.Host},
		Count: int64(ep.Seq), WindowStart: ep.Start, FirstEventTime: ep.Start, LastEventTime: now, EpisodeStart: ep.Start,
		Value: value, Threshold: threshold, MountPoint: mount,
		ID:  detect.AlertID(rule, h.Host, ep.Start.Unix(), 0, ep.Seq),
		SSH: h.SSHActivity(ep.Start, now),
	}
	switch rule {
	case contracts.RuleHostSilent:
		a.Message = fmt.Sprintf("no sample from %s for %s (expected every %gs)", h.Host, time.Duration(value*float64(time.Second)).Round(time.Second), h.Latest.IntervalSeconds)
	case contracts.RuleHostDiskFull:
		if value >= 0.98 {
			a.Severity = "critical"
		}
		a.Message = fmt.Sprintf("filesystem %s on %s is %.1f%% full (threshold %.0f%%)", mount, h.Host, 100*value, 100*threshold)
	default:
		a.Message = fmt.Sprintf("%s on %s: %.1f%% since %s (threshold %.0f%%)", rule, h.Host, 100*value, ep.Start.UTC().Format(time.RFC3339), 100*threshold)
	}
	return a
}

// setState sums the record up for the API.
func (h *HostState) setState() {
	switch {
	case h.Episodes[contracts.RuleHostSilent] != nil:
		h.State = StateSilent
	case len(h.Episodes) > 0:
		h.State = StateCritical
	case len(h.Since) > 0:
		h.State = StateWarning
	default:
		h.State = StateOK
	}
}

// remember keeps the alerts of the message at offset of src for replays.
func (h *HostState) remember(src Source, offset int64, alerts []*contracts.Alert) {
	for _, a := range alerts {
		h.Sent = append(h.Sent, Sent{Source: src, Offset: offset, Alert: a})
	}
	if n := len(h.Sent) - keepSent; n > 0 {
		h.Sent = append(h.Sent[:0], h.Sent[n:]...)
	}
}
