package sshlog

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/log-monitor/log_monitor/contracts"
)

var collectedAt = time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)

func parseOne(t *testing.T, line string) contracts.Event {
	t.Helper()
	p := NewParser(Source{Path: "/var/log/auth.log", Year: 2025, Loc: seoul(t)}, nil)
	return p.Parse(line, 100, collectedAt)
}

func TestUserNamesWithSpaces(t *testing.T) {
	cases := []struct {
		msg, typ, user, ip string
		port               int
	}{
		{"Invalid user admin test from 1.2.3.4", "invalid_user", "admin test", "1.2.3.4", 0},
		{"Invalid user admin test from 1.2.3.4 port 2222", "invalid_user", "admin test", "1.2.3.4", 2222},
		{"Invalid user  from 1.2.3.4 port 22", "invalid_user", "", "1.2.3.4", 22},
		{"Invalid user  0101 from 5.188.10.180", "invalid_user", " 0101", "5.188.10.180", 0},
		{"Invalid user a from b from 1.2.3.4 port 22", "invalid_user", "a from b", "1.2.3.4", 22},
		{"Invalid user x from 9.9.9.9 from 1.2.3.4 port 22", "invalid_user", "x from 9.9.9.9", "1.2.3.4", 22},
		{"input_userauth_request: invalid user admin test [preauth]", "invalid_user", "admin test", "", 0},
		{"Failed password for invalid user admin test from 1.2.3.4 port 22 ssh2", "auth_failure", "admin test", "1.2.3.4", 22},
		{"Failed password for invalid user ' or 1=1 -- from 1.2.3.4 port 22 ssh2", "auth_failure", "' or 1=1 --", "1.2.3.4", 22},
		{"Accepted password for John Smith from 10.0.0.1 port 5000 ssh2", "auth_success", "John Smith", "10.0.0.1", 5000},
		{"Disconnecting invalid user admin test 1.2.3.4 port 22: Too many authentication failures [preauth]", "too_many_failures", "admin test", "1.2.3.4", 22},
		{"Connection closed by invalid user admin test 1.2.3.4 port 22 [preauth]", "disconnect", "admin test", "1.2.3.4", 22},
		{"Disconnecting: Too many authentication failures for admin test [preauth]", "too_many_failures", "admin test", "", 0},
		{"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=admin test", "pam_auth_failure", "admin test", "1.2.3.4", 0},
	}
	for _, c := range cases {
		e := parseOne(t, "Mar  1 10:00:00 h sshd[1]: "+c.msg)
		if e.EventType != c.typ || e.User != c.user || e.IP != c.ip || e.Port != c.port {
			t.Errorf("%q: got %s user=%q ip=%q port=%d, want %s user=%q ip=%q port=%d",
				c.msg, e.EventType, e.User, e.IP, e.Port, c.typ, c.user, c.ip, c.port)
		}
	}
}

func TestRHostNameVersusAddress(t *testing.T) {
	const pre = "Mar  1 10:00:00 h sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="
	cases := []struct{ rhost, ip, name string }{
		{"1.2.3.4", "1.2.3.4", ""},
		{"5.36.59.76.dynamic-dsl-ip.omantel.net.om", "", "5.36.59.76.dynamic-dsl-ip.omantel.net.om"},
		{"ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn", "", "ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn"},
		{"256.1.1.1", "", "256.1.1.1"},
		{"01.2.3.4", "", "01.2.3.4"},
		{"1.2.3", "", "1.2.3"},
		{"::1", "::1", ""},
		{"2001:db8::1", "2001:db8::1", ""},
		{"2001:db8:::1", "", "2001:db8:::1"},
		{"cafe", "", "cafe"},
		{"dead:beef", "", "dead:beef"},
		{"fe80::1%eth0", "fe80::1", ""},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4", ""},
	}
	for _, c := range cases {
		e := parseOne(t, pre+c.rhost+"  user=root")
		if e.IP != c.ip || e.RHost != c.name || e.User != "root" || e.EventType != "pam_auth_failure" {
			t.Errorf("rhost=%s: got ip=%q rhost=%q user=%q %s, want ip=%q rhost=%q", c.rhost, e.IP, e.RHost, e.User, e.EventType, c.ip, c.name)
		}
	}
	// reverse-mapping names go to rhost too; the bracketed address to ip
	e := parseOne(t, "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.example.com [2001:db8::5] failed - POSSIBLE BREAK-IN ATTEMPT!")
	if e.IP != "2001:db8::5" || e.RHost != "ns.example.com" || e.EventType != "break_in_attempt" {
		t.Errorf("reverse mapping: %+v", e)
	}
}

func TestIPv6(t *testing.T) {
	cases := []struct {
		msg, typ, ip string
		port         int
	}{
		{"Failed password for root from 2001:db8::1 port 22 ssh2", "auth_failure", "2001:db8::1", 22},
		{"Accepted publickey for git from ::1 port 40000 ssh2: ED25519 SHA256:abc", "auth_success", "::1", 40000},
		{"Received disconnect from ::1: 11: Bye Bye [preauth]", "disconnect", "::1", 0},
		{"Received disconnect from 2001:db8::: 11: Bye Bye [preauth]", "disconnect", "2001:db8::", 0},
		{"Received disconnect from 2001:db8::2 port 51234:11: disconnected by user", "disconnect", "2001:db8::2", 51234},
		{"Connection closed by 2001:db8::3 port 1 [preauth]", "disconnect", "2001:db8::3", 1},
		{"Did not receive identification string from 2001:db8::4", "no_identification", "2001:db8::4", 0},
		{"drop connection #3 from [2001:db8::5]:4444 on [2001:db8::10]:22 past MaxStartups", "connection_dropped", "2001:db8::5", 4444},
		{"Invalid user bob from fe80::1%eth0 port 22", "invalid_user", "fe80::1", 22},
		{"Failed password for root from 2001:db8::zz port 22 ssh2", "unknown", "", 0},
	}
	for _, c := range cases {
		e := parseOne(t, "Mar  1 10:00:00 h sshd[1]: "+c.msg)
		if e.EventType != c.typ || e.IP != c.ip || e.Port != c.port {
			t.Errorf("%q: got %s ip=%q port=%d, want %s ip=%q port=%d", c.msg, e.EventType, e.IP, e.Port, c.typ, c.ip, c.port)
		}
	}
}

func TestRepeatedWrapper(t *testing.T) {
	cases := []struct {
		msg, typ, errT, user, ip string
		port, n                  int
	}{
		{"message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]", "auth_failure_repeated", "auth_failed", "root", "5.36.59.76", 42393, 5},
		{"message repeated 2 times: [ Failed password for invalid user admin test from 1.2.3.4 port 22 ssh2]", "auth_failure_repeated", "invalid_user_auth_failed", "admin test", "1.2.3.4", 22, 2},
		{"message repeated 3 times: [ Invalid user bob from 1.2.3.4]", "invalid_user", "invalid_user", "bob", "1.2.3.4", 0, 3},
		{"message repeated x times: [ Failed password for root from 1.2.3.4 port 22 ssh2]", "unknown", "", "", "", 0, 0},
		{"message repeated 0 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]", "unknown", "", "", "", 0, 0},
		{"message repeated 2 times: [ message repeated 2 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]]", "unknown", "", "", "", 0, 2},
	}
	for _, c := range cases {
		e := parseOne(t, "Mar  1 10:00:00 h sshd[1]: "+c.msg)
		if e.EventType != c.typ || e.ErrorType != c.errT || e.User != c.user || e.IP != c.ip || e.Port != c.port || e.RepeatCount != c.n {
			t.Errorf("%q: got %s/%s user=%q ip=%q port=%d n=%d", c.msg, e.EventType, e.ErrorType, e.User, e.IP, e.Port, e.RepeatCount)
		}
		if want := map[string]int{"auth_failure_repeated": c.n}[c.typ]; e.FailedAttempts() != want {
			t.Errorf("%q: FailedAttempts %d, want %d", c.msg, e.FailedAttempts(), want)
		}
	}
}

func TestCRLF(t *testing.T) {
	const line = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"
	base := parseOne(t, line)
	for _, l := range []string{line + "\r\n", line + "\r", line + "\n"} {
		e := parseOne(t, l)
		if e.Message != base.Message || e.IP != "173.234.31.186" || e.RowHash != base.RowHash {
			t.Errorf("%q: message %q ip %q hash %s (want %s)", l, e.Message, e.IP, e.RowHash, base.RowHash)
		}
	}
	if RowHash("p", 1, line+"\r\n") != RowHash("p", 1, line) {
		t.Error("RowHash does not drop the CRLF")
	}
}

func TestTruncatedAndBinary(t *testing.T) {
	// NUL: cut there
	e := parseOne(t, "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user bob from 1.2.3.4\x00\x01\x02garbage")
	if !e.Truncated || e.Message != "Invalid user bob from 1.2.3.4" || e.EventType != "invalid_user" {
		t.Errorf("NUL: %+v", e)
	}
	// oversized, cut inside a multi-byte rune
	long := "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user " + strings.Repeat("é", MaxLineBytes) + " from 1.2.3.4"
	e = parseOne(t, long)
	if !e.Truncated || !utf8.ValidString(e.Message) || !strings.HasPrefix(long, "Dec 10 06:55:46 LabSZ sshd[1]: "+e.Message) {
		t.Errorf("oversized: truncated=%v valid=%v", e.Truncated, utf8.ValidString(e.Message))
	}
	if n := len("Dec 10 06:55:46 LabSZ sshd[1]: ") + len(e.Message); n > MaxLineBytes || n < MaxLineBytes-3 {
		t.Errorf("oversized line cut to %d bytes", n)
	}
	if e.RowHash != RowHash("/var/log/auth.log", 100, long) {
		t.Error("row_hash of a cut line is not over the whole line")
	}
	// junk with no prefix: unknown, whole line as message, collection time
	for _, junk := range []string{"\xff\xfe\x00junk", "\x1b[31mred\x1b[0m", "", "Dec", "Dec 10 06:55", "Dec 32 06:55:46 h sshd[1]: x", "Foo 10 06:55:46 h sshd[1]: x", "2025-13-01T00:00:00Z h sshd[1]: x", "2025-01-01T00:00:00+9:00 h sshd[1]: x"} {
		e := parseOne(t, junk)
		msg, _ := clip(junk)
		if e.EventType != "unknown" || e.LogLevel != "INFO" || !e.EventTime.Equal(collectedAt) || e.HostName != "" || e.Message != msg {
			t.Errorf("junk %q: %+v", junk, e)
		}
		if !json.Valid(e.AppendJSON(nil)) {
			t.Errorf("junk %q: invalid JSON", junk)
		}
	}
	// an unknown sshd line keeps its prefix fields
	e = parseOne(t, "Dec 10 06:55:46 LabSZ sshd[24200]: debug1: something new")
	if e.EventType != "unknown" || e.HostName != "LabSZ" || e.Program != "sshd" || e.PID != 24200 || e.Message != "debug1: something new" {
		t.Errorf("unknown sshd line: %+v", e)
	}
}

func TestPrefixes(t *testing.T) {
	loc := seoul(t)
	cases := []struct {
		line, time, host, prog, msg string
		pid                         int
	}{
		{"Dec  1 06:55:46 h sshd[7]: m", "2025-12-01T06:55:46+09:00", "h", "sshd", "m", 7},
		{"Dec 1 06:55:46 h sshd[7]: m", "2025-12-01T06:55:46+09:00", "h", "sshd", "m", 7},
		{"<38>Dec 10 06:55:46 h sshd[7]: m", "2025-12-10T06:55:46+09:00", "h", "sshd", "m", 7},
		{"Dec 10 06:55:46 h sshd: m", "2025-12-10T06:55:46+09:00", "h", "sshd", "m", 0},
		{"Dec 10 06:55:46 h sshd[x]: m", "2025-12-10T06:55:46+09:00", "h", "", "sshd[x]: m", 0},
		{"Dec 10 06:55:46 h some text", "2025-12-10T06:55:46+09:00", "h", "", "some text", 0},
		{"Dec 10 06:55:46 h", "2025-12-10T06:55:46+09:00", "h", "", "", 0},
		{"Dec 10 06:55:46", "2025-12-10T06:55:46+09:00", "", "", "", 0},
		{"2025-03-01T12:34:56.123456+09:00 h sshd[7]: m", "2025-03-01T12:34:56.123456+09:00", "h", "sshd", "m", 7},
		{"2025-03-01T12:34:56Z h sshd[7]: m", "2025-03-01T12:34:56Z", "h", "sshd", "m", 7},
		{"2025-03-01T12:34:56.1-07:30 h sshd[7]: m", "2025-03-01T12:34:56.1-07:30", "h", "sshd", "m", 7},
		{"2025-03-01T12:34:56.123456789123+00:00 h sshd[7]: m", "2025-03-01T12:34:56.123456789Z", "h", "sshd", "m", 7},
	}
	for _, c := range cases {
		p := NewParser(Source{Path: "x", Year: 2025, Loc: loc}, nil)
		e := p.Parse(c.line, 0, collectedAt)
		if got := e.EventTime.Format(time.RFC3339Nano); got != c.time || e.HostName != c.host || e.Program != c.prog || e.Message != c.msg || e.PID != c.pid {
			t.Errorf("%q: got time=%s host=%q prog=%q msg=%q pid=%d", c.line, got, e.HostName, e.Program, e.Message, e.PID)
		}
	}
	// an RFC 3339 offset equal to the source zone's is shown in the source zone
	p := NewParser(Source{Path: "x", Loc: loc}, nil)
	if e := p.Parse("2025-03-01T12:34:56+09:00 h sshd[7]: m", 0, collectedAt); e.EventTime.Location() != loc {
		t.Errorf("location %v, want %v", e.EventTime.Location(), loc)
	}
}

func TestYearInferenceReplay(t *testing.T) {
	loc := seoul(t)
	p := NewParser(Source{Path: "x", Year: 2015, Loc: loc}, nil)
	steps := []struct{ stamp, want string }{
		{"Nov 30 23:00:00", "2015-11-30T23:00:00+09:00"},
		{"Dec 10 06:55:46", "2015-12-10T06:55:46+09:00"},
		{"Dec  9 06:55:46", "2015-12-09T06:55:46+09:00"}, // backwards within the month: no new year
		{"Dec 31 23:59:59", "2015-12-31T23:59:59+09:00"},
		{"Jan  1 00:00:01", "2016-01-01T00:00:01+09:00"}, // month backwards: next year
		{"Dec 31 23:59:58", "2015-12-31T23:59:58+09:00"}, // a late line of the old year
		{"Jan  1 00:00:02", "2016-01-01T00:00:02+09:00"},
		{"Feb  1 00:00:00", "2016-02-01T00:00:00+09:00"},
		{"Jan 31 23:59:00", "2016-01-31T23:59:00+09:00"}, // late across a month end: same year
		{"Feb 29 12:00:00", "2016-02-29T12:00:00+09:00"}, // 2016 is a leap year
		{"Dec 31 12:00:00", "2016-12-31T12:00:00+09:00"},
		{"Jan  8 15:30:30", "2017-01-08T15:30:30+09:00"},
		{"Mar  1 00:00:00", "2017-03-01T00:00:00+09:00"},
		{"Jan  2 00:00:00", "2018-01-02T00:00:00+09:00"}, // a gap that crosses New Year
	}
	for _, s := range steps {
		e := p.Parse(s.stamp+" h sshd[1]: Connection closed by 1.2.3.4 [preauth]", 0, collectedAt)
		if got := e.EventTime.Format(time.RFC3339); got != s.want {
			t.Errorf("%s: got %s, want %s", s.stamp, got, s.want)
		}
	}
}

func TestYearInferenceLive(t *testing.T) {
	loc := seoul(t)
	cases := []struct {
		now   time.Time
		stamp string
		want  string
	}{
		{time.Date(2025, 1, 1, 0, 10, 0, 0, loc), "Dec 31 23:59:00", "2024-12-31T23:59:00+09:00"},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, loc), "Jan  1 00:01:00", "2025-01-01T00:01:00+09:00"},
		{time.Date(2025, 6, 15, 12, 0, 0, 0, loc), "Jun 15 11:00:00", "2025-06-15T11:00:00+09:00"},
		{time.Date(2025, 6, 15, 12, 0, 0, 0, loc), "Jan  2 11:00:00", "2025-01-02T11:00:00+09:00"},
		{time.Date(2025, 6, 15, 12, 0, 0, 0, loc), "Dec 20 11:00:00", "2024-12-20T11:00:00+09:00"},
		// now is given in UTC, but it is already the new year in Seoul
		{time.Date(2024, 12, 31, 15, 30, 0, 0, time.UTC), "Jan  1 00:20:00", "2025-01-01T00:20:00+09:00"},
		// Feb 29 only exists in a leap year
		{time.Date(2025, 3, 1, 0, 0, 0, 0, loc), "Feb 29 10:00:00", "2024-02-29T10:00:00+09:00"},
	}
	for _, c := range cases {
		now := c.now
		p := NewParser(Source{Path: "x", Loc: loc}, func() time.Time { return now })
		e := p.Parse(c.stamp+" h sshd[1]: Connection closed by 1.2.3.4 [preauth]", 0, collectedAt)
		if got := e.EventTime.Format(time.RFC3339); got != c.want {
			t.Errorf("now %s, %s: got %s, want %s", c.now, c.stamp, got, c.want)
		}
	}
}

func TestRowHash(t *testing.T) {
	// the documented formula, computed independently
	want := func(path string, off int64, line string) string {
		msg := []byte(path + "\x00")
		msg = binary.BigEndian.AppendUint64(msg, uint64(off))
		msg = append(msg, line...)
		h1 := xxhash.NewWithSeed(0)
		h1.Write(msg)
		h2 := xxhash.NewWithSeed(0x9E3779B97F4A7C15)
		h2.Write(msg)
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], h1.Sum64())
		binary.BigEndian.PutUint64(b[8:], h2.Sum64())
		return hex.EncodeToString(b[:])
	}
	line := "Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by 1.2.3.4 [preauth]"
	h := RowHash("/data/ssh.log", 4096, line)
	if h != want("/data/ssh.log", 4096, line) || len(h) != 32 {
		t.Errorf("RowHash %s, formula %s", h, want("/data/ssh.log", 4096, line))
	}
	seen := map[string]string{}
	for _, c := range []struct {
		path string
		off  int64
		line string
	}{
		{"/data/ssh.log", 4096, line},
		{"/data/ssh.log", 4177, line},          // same line, other offset
		{"/data/ssh2.log", 4096, line},         // other file
		{"/data/ssh.log", 4096, line + " "},    // other content
		{"/data/ssh.lo", 4096, "g\x00" + line}, // no ambiguity between path and line
	} {
		h := RowHash(c.path, c.off, c.line)
		if prev, dup := seen[h]; dup {
			t.Errorf("%v collides with %s", c, prev)
		}
		seen[h] = c.path
		p := NewParser(Source{Path: c.path}, nil)
		if e := p.Parse(c.line, c.off, collectedAt); e.RowHash != h {
			t.Errorf("parser row_hash %s, RowHash %s", e.RowHash, h)
		}
	}
	// the parser's hashes stay intact across its shared buffer
	p := NewParser(Source{Path: "/p"}, nil)
	var hs []string
	for i := 0; i < 3*hexArenaSize/32; i++ {
		hs = append(hs, p.Parse(line, int64(i), collectedAt).RowHash)
	}
	for i, h := range hs {
		if h != RowHash("/p", int64(i), line) {
			t.Fatalf("hash %d changed", i)
		}
	}
}

func TestAppendJSONExact(t *testing.T) {
	loc := seoul(t)
	p := NewParser(Source{Path: "/data/ssh-replica/SSH.log", Year: 2015, Loc: loc}, nil)
	e := p.Parse("Dec 10 07:08:28 LabSZ sshd[24208]: message repeated 5 times: [ Failed password for root from 112.95.230.3 port 45378 ssh2]", 1234, collectedAt)
	want := `{"@timestamp":"2026-03-04T05:06:07.89Z","event_time":"2015-12-10T07:08:28+09:00","host_name":"LabSZ","user":"root","ip":"112.95.230.3","port":45378,"log_level":"ERROR","log_type":"ssh","error_type":"auth_failed","message":"message repeated 5 times: [ Failed password for root from 112.95.230.3 port 45378 ssh2]","row_hash":"` + e.RowHash + `","source_file":"SSH.log","source_path":"/data/ssh-replica/SSH.log","event_type":"auth_failure_repeated","pid":24208,"auth_method":"password","repeat_count":5,"program":"sshd","offset":1234}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// empty fields: ip and port omitted, user and error_type kept as ""
	e = p.Parse("Dec 10 07:08:29 LabSZ sshd[1]: fatal: no hostkey alg [preauth]", 0, collectedAt)
	got := string(e.AppendJSON(nil))
	for _, k := range []string{`"ip"`, `"port"`, `"repeat_count"`, `"auth_method"`, `"rhost"`, `"key_info"`, `"truncated"`} {
		if strings.Contains(got, k) {
			t.Errorf("%s present in %s", k, got)
		}
	}
	for _, k := range []string{`"user":""`, `"error_type":"protocol_error"`, `"offset":0`, `"pid":1`, `"host_name":"LabSZ"`} {
		if !strings.Contains(got, k) {
			t.Errorf("%s missing from %s", k, got)
		}
	}
	// json.Marshal goes through AppendJSON
	b, err := json.Marshal(e)
	if err != nil || string(b) != got {
		t.Errorf("json.Marshal: %s %v", b, err)
	}
}

// roundTrip checks decode(encode(e)) == e and encode(decode(encode(e))) == encode(e).
func roundTrip(t testing.TB, e contracts.Event) {
	t.Helper()
	b := e.AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	d, err := contracts.UnmarshalJSON(b)
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if b2 := d.AppendJSON(nil); string(b2) != string(b) {
		t.Fatalf("re-encoded differs:\n%s\n%s", b, b2)
	}
	if !d.Timestamp.Equal(e.Timestamp) || !d.EventTime.Equal(e.EventTime) {
		t.Fatalf("times differ: %v %v / %v %v", d.Timestamp, e.Timestamp, d.EventTime, e.EventTime)
	}
	valid := true
	for _, s := range []string{e.HostName, e.User, e.IP, e.Message, e.Program, e.RHost, e.KeyInfo, e.AuthMethod} {
		valid = valid && utf8.ValidString(s)
	}
	d.Timestamp, d.EventTime = e.Timestamp, e.EventTime
	if valid && d != e {
		t.Fatalf("round trip:\n%+v\n%+v", e, d)
	}
}

func TestRoundTrip(t *testing.T) {
	b, err := os.ReadFile("testdata/modern_auth.log")
	if err != nil {
		t.Fatal(err)
	}
	p := NewParser(Source{Path: "/var/log/auth.log", Year: 2024, Loc: seoul(t)}, nil)
	for _, l := range splitLines(string(b)) {
		roundTrip(t, p.Parse(l.text, l.offset, collectedAt))
	}
	for _, l := range splitLines(readShared(t, "data/loghub-openssh/OpenSSH_2k.log")) {
		roundTrip(t, p.Parse(l.text, l.offset, time.Now()))
	}
	e := parseOne(t, "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user \"q\\\t\x01 from 1.2.3.4\x00rest")
	roundTrip(t, e)
	if !e.Truncated || e.User != "\"q\\\t\x01" {
		t.Errorf("%+v", e)
	}
	var d contracts.Event
	if err := json.Unmarshal([]byte(`{"event_time":"2025-01-01T00:00:00Z"}`), &d); err == nil {
		t.Error("missing @timestamp accepted")
	}
	if err := json.Unmarshal([]byte(`{"@timestamp":"x","event_time":"2025-01-01T00:00:00Z"}`), &d); err == nil {
		t.Error("bad @timestamp accepted")
	}
}

func TestAllocations(t *testing.T) {
	loc := seoul(t)
	p := NewParser(Source{Path: "/data/SSH.log", Year: 2015, Loc: loc}, nil)
	lines := []string{
		"Dec 10 07:08:28 LabSZ sshd[24208]: message repeated 5 times: [ Failed password for root from 112.95.230.3 port 45378 ssh2]",
		"Dec 10 06:55:48 LabSZ sshd[24200]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186 ",
		"2025-01-01T00:00:31.5+09:00 db2 sshd[3010]: Failed password for root from 2001:db8:1::5 port 52000 ssh2",
		"2025-01-01T00:00:31.5-05:00 db2 sshd[3010]: Failed password for root from 2001:db8:1::5 port 52000 ssh2",
	}
	buf := make([]byte, 0, 1024)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		e := p.Parse(lines[i%len(lines)], int64(i), collectedAt)
		buf = e.AppendJSON(buf[:0])
		i++
	})
	if allocs > 1 {
		t.Errorf("Parse+AppendJSON: %.2f allocations per line, want <= 1", allocs)
	}
	e := p.Parse(lines[0], 0, collectedAt)
	if a := testing.AllocsPerRun(1000, func() { buf = e.AppendJSON(buf[:0]) }); a != 0 {
		t.Errorf("AppendJSON: %.2f allocations, want 0", a)
	}
	t.Logf("Parse+AppendJSON: %.3f allocations per line", allocs)
}

func TestSummary(t *testing.T) {
	p := NewParser(Source{Path: "x", Year: 2015, Loc: seoul(t)}, nil)
	s := NewSummary()
	for _, l := range []string{
		"Dec 10 07:08:28 LabSZ sshd[1]: message repeated 5 times: [ Failed password for root from 1.2.3.4 port 4 ssh2]",
		"Dec 10 07:08:29 LabSZ sshd[1]: Failed password for root from 1.2.3.4 port 4 ssh2",
		"Dec 10 07:08:30 LabSZ CRON[2]: x",
		"junk",
	} {
		s.Add(p.Parse(l, 0, collectedAt))
	}
	if s.Lines != 4 || s.Unknown != 2 || s.FailedAttempts != 6 || s.EventTypes["auth_failure"] != 1 || s.LogLevels["ERROR"] != 2 || s.LogLevels["INFO"] != 2 {
		t.Errorf("%+v", s)
	}
	if s.LastEventTime.Format(time.RFC3339) != "2015-12-10T07:08:30+09:00" {
		t.Errorf("last event_time %s (the junk line's collection time must not count)", s.LastEventTime)
	}
	b, _ := s.MarshalJSONIndent()
	b2, _ := s.MarshalJSONIndent()
	if string(b) != string(b2) || !json.Valid(b) {
		t.Error("JSON rendering not deterministic")
	}
	want := "lines            4\nunknown          2\ntruncated        0\nfailed_attempts  6\n"
	if txt := s.String(); !strings.HasPrefix(txt, want) || !strings.Contains(txt, "unknown                           2\n") {
		t.Errorf("text:\n%s", txt)
	}
}
