package sshlog

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// sharedDir returns ../shared next to the repository root (the directory holding
// go.mod), skipping the test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "data")); err != nil {
		t.Skipf("shared data not present: %v", err)
	}
	return shared
}

// rawLine is one record of a file and its byte offset.
type rawLine struct {
	text   string // without the "\n"
	offset int64
}

// splitLines splits data into records at "\n"; a last record without terminator
// counts too.
func splitLines(data string) []rawLine {
	var out []rawLine
	off := 0
	for off < len(data) {
		i := strings.IndexByte(data[off:], '\n')
		if i < 0 {
			out = append(out, rawLine{data[off:], int64(off)})
			break
		}
		out = append(out, rawLine{data[off : off+i], int64(off)})
		off += i + 1
	}
	return out
}

func seoul(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func readShared(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var replicaOnce struct {
	sync.Once
	data string
	err  error
}

// replicaData returns the decompressed SSH.log of the replica.
func replicaData(t testing.TB) string {
	t.Helper()
	path := filepath.Join(sharedDir(t), "data", "ssh-replica", "SSH.log.gz")
	replicaOnce.Do(func() {
		f, err := os.ReadFile(path)
		if err != nil {
			replicaOnce.err = err
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(f))
		if err != nil {
			replicaOnce.err = err
			return
		}
		b, err := io.ReadAll(zr)
		replicaOnce.data, replicaOnce.err = string(b), err
	})
	if replicaOnce.err != nil {
		t.Fatal(replicaOnce.err)
	}
	return replicaOnce.data
}

// logTemplate is a loghub template: literal text with "<*>" wildcards.
type logTemplate struct {
	text  string
	parts []string
	lit   int // literal characters, for choosing the most specific template
}

func newTemplate(s string) logTemplate {
	parts := strings.Split(s, "<*>")
	return logTemplate{text: s, parts: parts, lit: len(s) - 3*(len(parts)-1)}
}

// match matches s against the template with lazy wildcards (as the regexp
// ^lit0(.*?)lit1(.*?)...litN$ would) and returns the wildcard values.
func (t logTemplate) match(s string) ([]string, bool) {
	if len(t.parts) == 1 {
		return nil, s == t.parts[0]
	}
	first, last := t.parts[0], t.parts[len(t.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return nil, false
	}
	body := s[len(first) : len(s)-len(last)]
	params := make([]string, 0, len(t.parts)-1)
	for _, mid := range t.parts[1 : len(t.parts)-1] {
		i := strings.Index(body, mid)
		if i < 0 {
			return nil, false
		}
		params = append(params, body[:i])
		body = body[i+len(mid):]
	}
	return append(params, body), true
}

// fieldSpec says where a template's fields are: indexes into its wildcard values
// (-1 = the line names no such field) or constants.
type fieldSpec struct {
	eventType string
	errorType string
	user      int    // wildcard holding the user
	userConst string // user written in the template itself
	ip        int    // wildcard holding the remote address
	host      int    // wildcard holding rhost=: an address goes to ip, a name to rhost
	rhost     int    // wildcard holding a host name (reverse-mapping lines)
	port      int    // wildcard holding the port (leading digits)
	repeat    int    // wildcard holding N of "message repeated N times"
	method    string // auth_method
}

// designLevel is the log_level per event_type of docs/contracts.md.
var designLevel = map[string]string{
	"auth_success": "INFO", "auth_failure": "ERROR", "auth_failure_repeated": "ERROR",
	"invalid_user": "WARN", "pam_auth_failure": "WARN", "pam_other": "WARN",
	"too_many_failures": "ERROR", "break_in_attempt": "WARN", "no_identification": "WARN",
	"disconnect_error": "ERROR", "connection_reset": "ERROR", "protocol_error": "WARN",
	"disconnect": "INFO", "session_opened": "INFO", "session_closed": "INFO",
	"connection_dropped": "WARN", "sshd_other": "INFO", "unknown": "INFO",
}

// designErrorType is the error_type per event_type of docs/contracts.md (auth failures of an invalid
// user are invalid_user_auth_failed instead).
var designErrorType = map[string]string{
	"auth_failure": "auth_failed", "auth_failure_repeated": "auth_failed",
	"invalid_user": "invalid_user", "pam_auth_failure": "pam_auth_failure", "pam_other": "pam_auth_failure",
	"too_many_failures": "too_many_failures", "break_in_attempt": "reverse_mapping_failed",
	"no_identification": "no_identification", "disconnect_error": "disconnect_error",
	"connection_reset": "connection_reset", "protocol_error": "protocol_error",
	"connection_dropped": "max_startups",
}

// checkFields compares an event with the wildcard values of its template and returns
// the differences.
func checkFields(e contracts.Event, spec fieldSpec, params []string) []string {
	var bad []string
	// raw returns a wildcard value as written (user names may start with a space:
	// the 2k sample has "Invalid user  0101"); param trims it, for addresses and numbers
	// ("rhost=H  user=U" leaves a space after H).
	raw := func(i int) string {
		if i < 0 || i >= len(params) {
			return ""
		}
		return params[i]
	}
	param := func(i int) string { return strings.TrimSpace(raw(i)) }
	want := func(name, got, exp string) {
		if got != exp {
			bad = append(bad, name+": got "+strconv.Quote(got)+", want "+strconv.Quote(exp))
		}
	}
	want("event_type", e.EventType, spec.eventType)
	want("log_level", e.LogLevel, designLevel[spec.eventType])
	errType := spec.errorType
	if errType == "" {
		errType = designErrorType[spec.eventType]
	}
	want("error_type", e.ErrorType, errType)
	user := spec.userConst
	if spec.user >= 0 {
		user = raw(spec.user)
	}
	want("user", e.User, user)
	// rhost never holds an address; the full set's E5 template "maps to <*> but"
	// leaves the comma of "maps to H, but" in the value
	ip, rhost := param(spec.ip), strings.TrimSuffix(param(spec.rhost), ",")
	if net.ParseIP(rhost) != nil {
		rhost = ""
	}
	if h := param(spec.host); h != "" {
		if net.ParseIP(h) != nil {
			ip = h
		} else {
			rhost = h
		}
	}
	want("ip", e.IP, ip)
	want("rhost", e.RHost, rhost)
	port := 0
	if p := param(spec.port); p != "" {
		// E14 of the 2k templates ends "port <*>]", so its value is "P ssh2"
		port, _ = strconv.Atoi(strings.Fields(p)[0])
	}
	if e.Port != port {
		bad = append(bad, fmt.Sprintf("port: got %d, want %d", e.Port, port))
	}
	repeat := 0
	if r := param(spec.repeat); r != "" {
		repeat, _ = strconv.Atoi(r)
	}
	if e.RepeatCount != repeat {
		bad = append(bad, fmt.Sprintf("repeat_count: got %d, want %d", e.RepeatCount, repeat))
	}
	want("auth_method", e.AuthMethod, spec.method)
	return bad
}

// none marks an absent field index in fieldSpec tables.
const none = -1

// spec builds a fieldSpec with every index absent.
func spec(eventType string) fieldSpec {
	return fieldSpec{eventType: eventType, user: none, ip: none, host: none, rhost: none, port: none, repeat: none}
}

func (s fieldSpec) withUser(i int) fieldSpec         { s.user = i; return s }
func (s fieldSpec) withUserConst(u string) fieldSpec { s.userConst = u; return s }
func (s fieldSpec) withIP(i int) fieldSpec           { s.ip = i; return s }
func (s fieldSpec) withHost(i int) fieldSpec         { s.host = i; return s }
func (s fieldSpec) withRHost(i int) fieldSpec        { s.rhost = i; return s }
func (s fieldSpec) withPort(i int) fieldSpec         { s.port = i; return s }
func (s fieldSpec) withRepeat(i int) fieldSpec       { s.repeat = i; return s }
func (s fieldSpec) withMethod(m string) fieldSpec    { s.method = m; return s }
func (s fieldSpec) withError(t string) fieldSpec     { s.errorType = t; return s }

func quote(s string) string { return strconv.Quote(s) }
func itoa(n int) string     { return strconv.Itoa(n) }
