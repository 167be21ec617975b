package contracts

import (
	"sort"
	"time"
)

// HostActivityTopic is the topic of the SSH activity per host that ingest
// writes beside the ssh-log topic sshLog, in the same transactions:
// "ssh-log-host-activity" for the contract's ssh-log. Its key is the host
// name (partitioned as system-metrics is), its value a HostActivity. The
// host stage reads it so a host alert carries the host's SSH activity.
func HostActivityTopic(sshLog string) string { return sshLog + "-host-activity" }

// HostActivity is one host's SSH activity in the lines of one ingest
// transaction's chunk, per minute of event time.
type HostActivity struct {
	HostName string           `json:"host_name"`
	Minutes  []MinuteActivity `json:"minutes"`
}

// MinuteActivity counts one minute's SSH events of a host.
type MinuteActivity struct {
	Minute     time.Time        `json:"minute"` // the minute's start, UTC
	Failed     int64            `json:"failed"` // failed attempts (Event.FailedAttempts)
	Succeeded  int64            `json:"succeeded"`
	FailedByIP map[string]int64 `json:"failed_by_ip,omitempty"`
}

// CountActivity adds an event to acts (host -> minute -> counts); events
// that are neither failures nor successful logins are not counted.
func CountActivity(acts map[string]map[int64]*MinuteActivity, e *Event) {
	failed := int64(e.FailedAttempts())
	if failed == 0 && e.EventType != TypeAuthSuccess {
		return
	}
	byMinute := acts[e.HostName]
	if byMinute == nil {
		byMinute = map[int64]*MinuteActivity{}
		acts[e.HostName] = byMinute
	}
	m := e.EventTime.Unix() / 60
	a := byMinute[m]
	if a == nil {
		a = &MinuteActivity{Minute: time.Unix(m*60, 0).UTC()}
		byMinute[m] = a
	}
	if e.EventType == TypeAuthSuccess {
		a.Succeeded++
	}
	if failed > 0 {
		a.Failed += failed
		if e.IP != "" {
			if a.FailedByIP == nil {
				a.FailedByIP = map[string]int64{}
			}
			a.FailedByIP[e.IP] += failed
		}
	}
}

// Add adds b's counts to a (the same minute).
func (a *MinuteActivity) Add(b *MinuteActivity) {
	a.Failed += b.Failed
	a.Succeeded += b.Succeeded
	for ip, n := range b.FailedByIP {
		if a.FailedByIP == nil {
			a.FailedByIP = map[string]int64{}
		}
		a.FailedByIP[ip] += n
	}
}

// Activities turns CountActivity's map into records, by host, minutes in
// order.
func Activities(acts map[string]map[int64]*MinuteActivity) []HostActivity {
	out := make([]HostActivity, 0, len(acts))
	for host, byMinute := range acts {
		h := HostActivity{HostName: host}
		for _, a := range byMinute {
			h.Minutes = append(h.Minutes, *a)
		}
		sort.Slice(h.Minutes, func(i, j int) bool { return h.Minutes[i].Minute.Before(h.Minutes[j].Minute) })
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].HostName < out[j].HostName })
	return out
}
