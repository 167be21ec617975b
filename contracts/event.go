package contracts

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Event is one ssh-log event: the value of the Kafka topic ssh-log and the
// document of the Elasticsearch index ssh-log (docs/contracts.md, "Event
// fields"). The parser (connectors/sshlog) makes its string fields substrings
// of the parsed line; UnmarshalJSON makes them substrings of one copy of the
// value.
type Event struct {
	Timestamp time.Time // json "@timestamp": when collected
	EventTime time.Time // json "event_time": syslog time + inferred year, in the source's time zone, RFC 3339 with offset

	HostName   string
	User       string
	IP         string // remote address written in the line (IPv4 or IPv6); never a host name
	Port       int
	LogLevel   string // INFO, WARN or ERROR
	LogType    string // always "ssh"
	ErrorType  string
	Message    string // the message after "program[pid]: "
	RowHash    string
	SourceFile string
	SourcePath string

	// extras
	EventType   string
	PID         int
	AuthMethod  string
	RepeatCount int
	RHost       string // remote host name (rhost=H, or the H of a reverse-mapping line) that is not an address
	KeyInfo     string // e.g. "ED25519 SHA256:..." on publickey lines
	Program     string // syslog program name (sshd, CRON, ...)
	Offset      int64  // byte offset of the line in its file
	Truncated   bool   // the line was cut (oversized, or binary after a NUL byte)
}

// Event types (the event_type field).
const (
	TypeAuthSuccess         = "auth_success"
	TypeAuthFailure         = "auth_failure"
	TypeAuthFailureRepeated = "auth_failure_repeated"
	TypeInvalidUser         = "invalid_user"
	TypePAMAuthFailure      = "pam_auth_failure"
	TypePAMOther            = "pam_other"
	TypeTooManyFailures     = "too_many_failures"
	TypeBreakInAttempt      = "break_in_attempt"
	TypeNoIdentification    = "no_identification"
	TypeDisconnectError     = "disconnect_error"
	TypeConnectionReset     = "connection_reset"
	TypeProtocolError       = "protocol_error"
	TypeDisconnect          = "disconnect"
	TypeSessionOpened       = "session_opened"
	TypeSessionClosed       = "session_closed"
	TypeConnectionDropped   = "connection_dropped"
	TypeSSHDOther           = "sshd_other"
	TypeUnknown             = "unknown"
)

// LogTypeSSH is the log_type of every sshd event (other log kinds later).
const LogTypeSSH = "ssh"

// Log levels.
const (
	LevelInfo  = "INFO"
	LevelWarn  = "WARN"
	LevelError = "ERROR"
)

// Error types (the error_type field).
const (
	ErrAuthFailed            = "auth_failed"
	ErrInvalidUserAuthFailed = "invalid_user_auth_failed"
	ErrInvalidUser           = "invalid_user"
	ErrPAMAuthFailure        = "pam_auth_failure"
	ErrTooManyFailures       = "too_many_failures"
	ErrReverseMappingFailed  = "reverse_mapping_failed"
	ErrNoIdentification      = "no_identification"
	ErrDisconnectError       = "disconnect_error"
	ErrConnectionReset       = "connection_reset"
	ErrProtocolError         = "protocol_error"
	ErrMaxStartups           = "max_startups"
)

// FailedAttempts is how many failed authentication attempts the event counts for
// (docs/contracts.md: once per "Failed ..." line, N times for "message repeated N times").
func (e *Event) FailedAttempts() int {
	switch e.EventType {
	case TypeAuthFailure:
		return 1
	case TypeAuthFailureRepeated:
		return e.RepeatCount
	}
	return 0
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// AppendJSON appends the event as one JSON object (the exact Kafka value) to dst.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = appendTime(dst, e.Timestamp)
	dst = append(dst, `","event_time":"`...)
	dst = appendTime(dst, e.EventTime)
	dst = append(dst, `","host_name":`...)
	dst = appendJSONString(dst, e.HostName)
	dst = append(dst, `,"user":`...)
	dst = appendJSONString(dst, e.User)
	if e.IP != "" {
		dst = append(dst, `,"ip":`...)
		dst = appendJSONString(dst, e.IP)
	}
	if e.Port != 0 {
		dst = append(dst, `,"port":`...)
		dst = strconv.AppendInt(dst, int64(e.Port), 10)
	}
	dst = append(dst, `,"log_level":`...)
	dst = appendJSONString(dst, e.LogLevel)
	dst = append(dst, `,"log_type":`...)
	dst = appendJSONString(dst, e.LogType)
	dst = append(dst, `,"error_type":`...)
	dst = appendJSONString(dst, e.ErrorType)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, e.Message)
	dst = append(dst, `,"row_hash":`...)
	dst = appendJSONString(dst, e.RowHash)
	dst = append(dst, `,"source_file":`...)
	dst = appendJSONString(dst, e.SourceFile)
	dst = append(dst, `,"source_path":`...)
	dst = appendJSONString(dst, e.SourcePath)
	dst = append(dst, `,"event_type":`...)
	dst = appendJSONString(dst, e.EventType)
	if e.PID != 0 {
		dst = append(dst, `,"pid":`...)
		dst = strconv.AppendInt(dst, int64(e.PID), 10)
	}
	if e.AuthMethod != "" {
		dst = append(dst, `,"auth_method":`...)
		dst = appendJSONString(dst, e.AuthMethod)
	}
	if e.RepeatCount != 0 {
		dst = append(dst, `,"repeat_count":`...)
		dst = strconv.AppendInt(dst, int64(e.RepeatCount), 10)
	}
	if e.RHost != "" {
		dst = append(dst, `,"rhost":`...)
		dst = appendJSONString(dst, e.RHost)
	}
	if e.KeyInfo != "" {
		dst = append(dst, `,"key_info":`...)
		dst = appendJSONString(dst, e.KeyInfo)
	}
	if e.Program != "" {
		dst = append(dst, `,"program":`...)
		dst = appendJSONString(dst, e.Program)
	}
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, e.Offset, 10)
	if e.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	return append(dst, '}')
}

// appendTime writes t as RFC 3339 with its offset, or in UTC when the offset has
// seconds (local mean time before ~1910), which RFC 3339 cannot express.
func appendTime(dst []byte, t time.Time) []byte {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.AppendFormat(dst, time.RFC3339Nano)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: '"', '\\' and control characters are
// escaped, U+2028 and U+2029 too (as encoding/json does), and each invalid UTF-8
// byte becomes U+FFFD (written as the UTF-8 rune, not as an escape, so that
// re-encoding a decoded event gives the same bytes).
// Runs of 8 plain ASCII bytes are skipped a word at a time.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && jsonSafe8(load8(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
