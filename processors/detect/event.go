package detect

import (
	"github.com/log-monitor/log_monitor/contracts"
)

// Event is what a processor passes to Apply: the fields of one ssh-log event
// the rules use.
type Event struct {
	Time      int64  // event_time in unix seconds
	Offset    int64  // the input's source offset (copied into Alert.Offset; not used by the rules)
	Type      string // event_type
	ErrorType string // error_type
	User      string
	IP        string
	Host      string // host_name
	RowHash   string
	Failed    int // failed attempts the line counts for: sshlog's FailedAttempts()
}

// FromSSHLog returns the rule engine's view of a parsed event at the given
// source offset.
func FromSSHLog(e *contracts.Event, offset int64) Event {
	return Event{
		Time: e.EventTime.Unix(), Offset: offset,
		Type: e.EventType, ErrorType: e.ErrorType,
		User: e.User, IP: e.IP, Host: e.HostName, RowHash: e.RowHash,
		Failed: e.FailedAttempts(),
	}
}

// failed is the event's failed attempts (negative counts as none).
func (e *Event) failed() int64 {
	if e.Failed > 0 {
		return int64(e.Failed)
	}
	return 0
}

// invalidUser reports whether the event names an invalid (non-existent) user:
// an "Invalid user" line, or a failure "for invalid user".
func (e *Event) invalidUser() bool {
	return e.User != "" && (e.Type == contracts.TypeInvalidUser ||
		(e.Failed > 0 && e.ErrorType == contracts.ErrInvalidUserAuthFailed))
}

func (e *Event) success() bool { return e.Type == contracts.TypeAuthSuccess }

// maxStr bounds every name a state keeps (user, host, IP, row hash), so that a
// hostile line cannot grow a state: longer names are cut (at a UTF-8 boundary).
const maxStr = 64

func clip(s string) string {
	if len(s) <= maxStr {
		return s
	}
	i := maxStr
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
