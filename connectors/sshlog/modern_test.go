package sshlog

import (
	"os"
	"strings"
	"testing"
	"time"
)

// modernWant is what one line of testdata/modern_auth.log must parse to. Fields not
// set must be empty (zero) in the event.
type modernWant struct {
	typ    string
	host   string
	prog   string
	pid    int
	time   string // event_time, RFC 3339
	user   string
	ip     string
	port   int
	method string
	key    string
	rhost  string
	repeat int
	errT   string // error_type when it is not the default of docs/contracts.md for typ
}

// modernAuth lists testdata/modern_auth.log line by line: OpenSSH 8.x-9.x shapes of
// The second table of docs/contracts.md ("What the lines mean"), two hosts, IPv4 and IPv6, classic and RFC 3339 prefixes, a
// New Year crossing (Source.Year 2024) and other programs' lines in between.
var modernAuth = []modernWant{
	{typ: "sshd_other", host: "web1", prog: "sshd", pid: 1001, time: "2024-12-31T23:58:01+09:00"},
	{typ: "sshd_other", host: "web1", prog: "sshd", pid: 1001, time: "2024-12-31T23:58:01+09:00"},
	{typ: "sshd_other", host: "web1", prog: "sshd", pid: 2001, time: "2024-12-31T23:58:10+09:00", ip: "203.0.113.5", port: 50122},
	{typ: "invalid_user", host: "web1", prog: "sshd", pid: 2001, time: "2024-12-31T23:58:11+09:00", user: "admin test", ip: "203.0.113.5", port: 50122},
	{typ: "auth_failure", host: "web1", prog: "sshd", pid: 2001, time: "2024-12-31T23:58:13+09:00", user: "admin test", ip: "203.0.113.5", port: 50122, method: "keyboard-interactive/pam", errT: "invalid_user_auth_failed"},
	{typ: "too_many_failures", host: "web1", prog: "sshd", pid: 2001, time: "2024-12-31T23:58:13+09:00", user: "admin test", ip: "203.0.113.5", port: 50122},
	{typ: "too_many_failures", host: "web1", prog: "sshd", pid: 2001, time: "2024-12-31T23:58:13+09:00", user: "admin test", ip: "203.0.113.5", port: 50122},
	{typ: "unknown", host: "web1", prog: "CRON", pid: 2050, time: "2024-12-31T23:59:00+09:00"},
	{typ: "auth_failure", host: "web1", prog: "sshd", pid: 2060, time: "2024-12-31T23:59:30+09:00", user: "deploy", ip: "2001:db8::7", port: 41000, method: "publickey", key: "RSA SHA256:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr"},
	{typ: "auth_success", host: "web1", prog: "sshd", pid: 2060, time: "2024-12-31T23:59:31+09:00", user: "deploy", ip: "2001:db8::7", port: 41000, method: "publickey", key: "ED25519 SHA256:q1w2e3r4t5y6u7i8o9p0aSdFgHjKlZxCvBnM1234567"},
	{typ: "session_opened", host: "web1", prog: "sshd", pid: 2060, time: "2024-12-31T23:59:31+09:00", user: "deploy"},
	{typ: "unknown", host: "web1", prog: "systemd", pid: 1, time: "2024-12-31T23:59:59+09:00"},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2070, time: "2025-01-01T00:00:02+09:00", user: "root", ip: "198.51.100.23", port: 60001},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2071, time: "2025-01-01T00:00:03+09:00", ip: "198.51.100.24", port: 60002},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2071, time: "2025-01-01T00:00:03+09:00", user: "oracle", ip: "198.51.100.24", port: 60002},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2072, time: "2025-01-01T00:00:04+09:00", user: "oracle", ip: "198.51.100.24", port: 60003},
	{typ: "unknown", host: "web1", prog: "sudo", time: "2025-01-01T00:00:05+09:00"},
	{typ: "connection_reset", host: "web1", prog: "sshd", pid: 2073, time: "2025-01-01T00:00:06+09:00", user: "guest", ip: "198.51.100.25", port: 60004},
	{typ: "connection_reset", host: "web1", prog: "sshd", pid: 2074, time: "2025-01-01T00:00:06+09:00", ip: "198.51.100.26", port: 60005},
	{typ: "connection_reset", host: "web1", prog: "sshd", pid: 2075, time: "2025-01-01T00:00:07+09:00"},
	{typ: "no_identification", host: "web1", prog: "sshd", pid: 2076, time: "2025-01-01T00:00:08+09:00"},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2076, time: "2025-01-01T00:00:08+09:00", ip: "198.51.100.27", port: 60006},
	{typ: "no_identification", host: "web1", prog: "sshd", pid: 2077, time: "2025-01-01T00:00:09+09:00"},
	{typ: "no_identification", host: "web1", prog: "sshd", pid: 2077, time: "2025-01-01T00:00:09+09:00", ip: "198.51.100.28", port: 60007},
	{typ: "no_identification", host: "web1", prog: "sshd", pid: 2078, time: "2025-01-01T00:00:10+09:00", ip: "198.51.100.29", port: 60008},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2079, time: "2025-01-01T00:00:11+09:00", ip: "198.51.100.30", port: 60009},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2080, time: "2025-01-01T00:00:11+09:00", ip: "2001:db8:beef::1", port: 60010},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2081, time: "2025-01-01T00:00:12+09:00", user: "root", ip: "198.51.100.31", port: 60011},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2082, time: "2025-01-01T00:00:12+09:00", ip: "198.51.100.32", port: 60012},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2083, time: "2025-01-01T00:00:13+09:00", ip: "198.51.100.33", port: 60013},
	{typ: "connection_dropped", host: "web1", prog: "sshd", pid: 1001, time: "2025-01-01T00:00:14+09:00", ip: "198.51.100.34", port: 60014},
	{typ: "connection_dropped", host: "web1", prog: "sshd", pid: 1001, time: "2025-01-01T00:00:14+09:00"},
	{typ: "connection_dropped", host: "web1", prog: "sshd", pid: 1001, time: "2025-01-01T00:00:14+09:00", ip: "2001:db8::99", port: 60015},
	{typ: "too_many_failures", host: "web1", prog: "sshd", pid: 2084, time: "2025-01-01T00:00:15+09:00", user: "root", ip: "198.51.100.35", port: 60016},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2060, time: "2025-01-01T00:00:16+09:00", ip: "2001:db8::7", port: 41000},
	{typ: "disconnect", host: "web1", prog: "sshd", pid: 2060, time: "2025-01-01T00:00:16+09:00", user: "deploy", ip: "2001:db8::7", port: 41000},
	{typ: "session_closed", host: "web1", prog: "sshd", pid: 2060, time: "2025-01-01T00:00:16+09:00", user: "deploy"},
	{typ: "sshd_other", host: "web1", prog: "sshd", pid: 1001, time: "2025-01-01T00:00:17+09:00"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:20.123456+09:00", ip: "192.0.2.50", port: 51000},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:21.000001+09:00", user: "alice", ip: "192.0.2.50", port: 51000, method: "keyboard-interactive"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:21.5+09:00", key: "ED25519 SHA256:AbCdEf0123456789AbCdEf0123456789AbCdEf01234"},
	{typ: "auth_success", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:22+09:00", user: "alice", ip: "192.0.2.50", port: 51000, method: "keyboard-interactive/pam"},
	{typ: "session_opened", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:22+09:00", user: "alice"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3003, time: "2025-01-01T00:00:22+09:00"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3004, time: "2025-01-01T00:00:23+09:00", user: "alice", ip: "192.0.2.50", port: 51000},
	{typ: "pam_auth_failure", host: "db2", prog: "sshd", pid: 3010, time: "2024-12-31T15:00:30Z", user: "root", rhost: "scanner.example.net"},
	{typ: "pam_auth_failure", host: "db2", prog: "sshd", pid: 3010, time: "2025-01-01T00:00:31+09:00", user: "root", ip: "2001:db8:1::5"},
	{typ: "auth_failure_repeated", host: "db2", prog: "sshd", pid: 3010, time: "2025-01-01T00:00:32+09:00", user: "root", ip: "2001:db8:1::5", port: 52000, method: "password", repeat: 3},
	{typ: "pam_auth_failure", host: "db2", prog: "sshd", pid: 3010, time: "2025-01-01T00:00:33+09:00", user: "root", ip: "2001:db8:1::5"},
	{typ: "unknown", host: "db2", prog: "sudo", pid: 3020, time: "2025-01-01T00:00:34+09:00"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3004, time: "2025-01-01T00:00:35+09:00"},
	{typ: "sshd_other", host: "db2", prog: "sshd", pid: 3004, time: "2025-01-01T00:00:35+09:00", user: "alice", ip: "192.0.2.50", port: 51000},
	{typ: "session_closed", host: "db2", prog: "sshd", pid: 3001, time: "2025-01-01T00:00:36+09:00", user: "alice"},
	{typ: "unknown", host: "db2", prog: "systemd-logind", pid: 600, time: "2025-01-01T00:00:40+09:00"},
	{typ: "unknown", host: "db2", prog: "CRON", pid: 3030, time: "2025-01-01T00:00:41+09:00"},
	{typ: "auth_failure", host: "db2", prog: "sshd", pid: 3040, time: "2025-01-01T00:00:42-05:00", ip: "192.0.2.77", port: 52001, method: "password", errT: "invalid_user_auth_failed"},
	{typ: "auth_failure", host: "db2", prog: "sshd-session", pid: 3041, time: "2025-01-01T00:00:43+09:00", user: "root", ip: "192.0.2.78", port: 52002, method: "password"},
	{typ: "auth_failure", host: "web1", prog: "sshd", pid: 2090, time: "2025-01-01T00:01:00+09:00", user: "x from 1.2.3.4", ip: "198.51.100.40", port: 60020, method: "password", errT: "invalid_user_auth_failed"},
	{typ: "pam_auth_failure", host: "web1", prog: "sshd", pid: 2091, time: "2025-01-01T00:01:01+09:00", rhost: "198.51.100.41.static.example.net"},
	{typ: "disconnect_error", host: "web1", prog: "sshd", pid: 2092, time: "2025-01-01T00:01:02+09:00", ip: "198.51.100.42", port: 60021},
	{typ: "protocol_error", host: "web1", prog: "sshd", pid: 2093, time: "2025-01-01T00:01:03+09:00", ip: "198.51.100.43", port: 60022},
	{typ: "unknown", host: "web1", prog: "kernel", time: "2025-01-01T00:01:04+09:00"},
	{typ: "pam_auth_failure", host: "web1", prog: "sshd", pid: 2094, time: "2025-01-01T00:01:05+09:00", user: "bob", ip: "198.51.100.45"},
	{typ: "auth_success", host: "web1", prog: "sshd", pid: 2095, time: "2025-01-01T00:01:06+09:00", user: "root", ip: "::ffff:198.51.100.46", port: 60023, method: "password"},
	{typ: "invalid_user", host: "web1", prog: "sshd", pid: 2096, time: "2025-01-01T00:01:07+09:00", ip: "fe80::1", port: 60024},
	{typ: "disconnect", host: "web1", prog: "sshd", time: "2025-01-01T00:01:08+09:00", ip: "198.51.100.47", port: 60025},
	{typ: "connection_dropped", host: "web1", prog: "sshd", pid: 2097, time: "2025-01-01T00:01:09+09:00"},
}

func TestModernAuthLog(t *testing.T) {
	b, err := os.ReadFile("testdata/modern_auth.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := splitLines(string(b))
	if len(lines) != len(modernAuth) {
		t.Fatalf("fixture has %d lines, table %d", len(lines), len(modernAuth))
	}
	p := NewParser(Source{Path: "/var/log/auth.log", Year: 2024, Loc: seoul(t)}, nil)
	collected := time.Date(2025, 1, 1, 0, 2, 0, 0, time.UTC)
	for i, l := range lines {
		w := modernAuth[i]
		e := p.Parse(l.text, l.offset, collected)
		var bad []string
		eq := func(name, got, want string) {
			if got != want {
				bad = append(bad, name+": got "+quote(got)+", want "+quote(want))
			}
		}
		eqi := func(name string, got, want int) {
			if got != want {
				bad = append(bad, name+": got "+itoa(got)+", want "+itoa(want))
			}
		}
		errT := w.errT
		if errT == "" {
			errT = designErrorType[w.typ]
		}
		eq("event_type", e.EventType, w.typ)
		eq("log_level", e.LogLevel, designLevel[w.typ])
		eq("error_type", e.ErrorType, errT)
		eq("host_name", e.HostName, w.host)
		eq("program", e.Program, w.prog)
		eqi("pid", e.PID, w.pid)
		eq("event_time", e.EventTime.Format(time.RFC3339Nano), w.time)
		eq("user", e.User, w.user)
		eq("ip", e.IP, w.ip)
		eqi("port", e.Port, w.port)
		eq("auth_method", e.AuthMethod, w.method)
		eq("key_info", e.KeyInfo, w.key)
		eq("rhost", e.RHost, w.rhost)
		eqi("repeat_count", e.RepeatCount, w.repeat)
		eq("log_type", e.LogType, "ssh")
		eq("source_file", e.SourceFile, "auth.log")
		if !strings.HasSuffix(l.text, e.Message) || e.Message == "" {
			bad = append(bad, "message "+quote(e.Message)+" is not the end of the line")
		}
		if e.EventType == "unknown" && isSSHD(e.Program) {
			bad = append(bad, "an sshd line is unknown")
		}
		if len(bad) > 0 {
			t.Errorf("line %d %q:\n\t%s", i+1, l.text, strings.Join(bad, "\n\t"))
		}
	}
}
