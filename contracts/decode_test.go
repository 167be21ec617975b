package contracts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
)

// sameEvent reports whether two decoded events are identical, times
// compared by instant and zone.
func sameEvent(a, b contracts.Event) bool {
	for _, p := range [][2]time.Time{{a.Timestamp, b.Timestamp}, {a.EventTime, b.EventTime}} {
		na, oa := p[0].Zone()
		nb, ob := p[1].Zone()
		if !p[0].Equal(p[1]) || na != nb || oa != ob {
			return false
		}
	}
	a.Timestamp, a.EventTime, b.Timestamp, b.EventTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// decodeBoth decodes data with the fast path (through UnmarshalJSON) and
// with encoding/json, and fails unless they agree.
func decodeBoth(t testing.TB, data []byte) (contracts.Event, error) {
	t.Helper()
	var fast, std contracts.Event
	errFast, errStd := fast.UnmarshalJSON(data), std.UnmarshalStd(data)
	if (errFast == nil) != (errStd == nil) {
		t.Fatalf("%q: UnmarshalJSON error %v, encoding/json %v", data, errFast, errStd)
	}
	if errFast == nil && !sameEvent(fast, std) {
		t.Fatalf("%q: UnmarshalJSON\n%+v\nencoding/json\n%+v", data, fast, std)
	}
	return fast, errFast
}

// sampleEvents parses the loghub 2k sample (when ../shared is there) and the
// parser's modern auth.log sample into events.
func sampleEvents(t testing.TB) []contracts.Event {
	var events []contracts.Event
	collected := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)
	for _, f := range []struct {
		path string
		year int
	}{
		{filepath.Join(sharedDirOrEmpty(), "data", "loghub-openssh", "OpenSSH_2k.log"), 2015},
		{filepath.Join("..", "connectors", "sshlog", "testdata", "modern_auth.log"), 2024},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Logf("%s: %v", f.path, err)
			continue
		}
		p := sshlog.NewParser(sshlog.Source{Path: f.path, Year: f.year, Loc: time.FixedZone("KST", 9*3600)}, nil)
		lines, offsets := splitLines(string(b))
		for i, l := range lines {
			events = append(events, p.Parse(l, offsets[i], collected))
		}
	}
	if len(events) == 0 {
		t.Fatal("no sample lines")
	}
	return events
}

// TestDecodeFlatTakesWhatAppendJSONWrites: every encoded event without an
// escape in it is decoded by the fast path, to what encoding/json gives.
func TestDecodeFlatTakesWhatAppendJSONWrites(t *testing.T) {
	fastN := 0
	events := sampleEvents(t)
	for _, e := range events {
		b := e.AppendJSON(nil)
		var flat contracts.Event
		took := contracts.DecodeFlat(b, &flat)
		if !took && !bytes.Contains(b, []byte{'\\'}) {
			t.Errorf("fast path refused %s", b)
		}
		if took {
			fastN++
			var std contracts.Event
			if err := std.UnmarshalStd(b); err != nil || !sameEvent(flat, std) {
				t.Fatalf("%s:\nfast %+v\nstd  %+v (%v)", b, flat, std, err)
			}
		}
		decodeBoth(t, b)
	}
	t.Logf("%d of %d sample events decoded by the fast path", fastN, len(events))
}

// TestDecodeFlatLeavesTheRestToEncodingJSON: inputs off the fast path give
// encoding/json's result or error.
func TestDecodeFlatLeavesTheRestToEncodingJSON(t *testing.T) {
	const ts = `"@timestamp":"2026-01-01T00:00:00Z","event_time":"2015-12-10T06:55:48+09:00"`
	cases := []struct {
		in   string
		fast bool // the fast path takes it
		err  bool
	}{
		{`{` + ts + `,"user":"root","port":22,"truncated":true}`, true, false},
		{` {` + ts + ` , "user" : "r\u00f6ot" } `, false, false}, // escape
		{`{` + ts + `,"user":"röot","extra":"x","flag":false}`, true, false},
		{`{` + ts + `,"USER":"root"}`, false, false},       // case-insensitive key
		{`{` + ts + `,"user":null}`, false, false},         // null
		{`{` + ts + `,"extra":{"a":[1,2]}}`, false, false}, // nested
		{`{` + ts + `,"port":22.0}`, false, true},          // float into int
		{`{` + ts + `,"port":022}`, false, true},           // leading zero
		{`{` + ts + `,"port":"22"}`, false, true},          // string into int
		{`{` + ts + `,"port":99999999999999999999}`, false, true},
		{`{` + ts + `,"user":"a` + "\x01" + `"}`, false, true}, // control character
		{`{` + ts + `,"user":"` + "\xff" + `"}`, false, false}, // invalid UTF-8: U+FFFD
		{`{"@timestamp":"2026-01-01T00:00:00Z"}`, false, true}, // event_time missing
		{`{` + ts + `,"event_time":"yesterday"}`, false, true},
		{`{` + ts + `}x`, false, true},
		{`{` + ts + `,}`, false, true},
		{`[]`, false, true},
		{``, false, true},
	}
	for _, c := range cases {
		var e contracts.Event
		if took := contracts.DecodeFlat([]byte(c.in), &e); took != c.fast {
			t.Errorf("%q: fast path took it: %v, want %v", c.in, took, c.fast)
		}
		if _, err := decodeBoth(t, []byte(c.in)); (err != nil) != c.err {
			t.Errorf("%q: error %v, want error: %v", c.in, err, c.err)
		}
	}
}

// FuzzUnmarshalJSON: the fast path and encoding/json agree on every input.
func FuzzUnmarshalJSON(f *testing.F) {
	for i, e := range sampleEvents(f) {
		if i%50 == 0 {
			f.Add(e.AppendJSON(nil))
		}
	}
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","event_time":"2015-12-10T06:55:48+09:00","Port":1,"pid":-0,"truncated":false,"x":true}`))
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","event_time":"2015-12-10T06:55:48+09:00","user":"\u017f","\u212a":"k"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeBoth(t, data)
	})
}

// BenchmarkUnmarshalJSON decodes encoded sample events with UnmarshalJSON
// and, side by side, with encoding/json alone (one op = one event).
func BenchmarkUnmarshalJSON(b *testing.B) {
	var values [][]byte
	for _, e := range sampleEvents(b) {
		values = append(values, e.AppendJSON(nil))
	}
	for _, v := range []struct {
		name   string
		decode func(*contracts.Event, []byte) error
	}{
		{"fast", (*contracts.Event).UnmarshalJSON},
		{"encoding-json", (*contracts.Event).UnmarshalStd},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var e contracts.Event
				if err := v.decode(&e, values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// splitLines splits data into records at "\n" with their byte offsets; a
// last record without terminator counts too.
func splitLines(data string) (lines []string, offsets []int64) {
	off := 0
	for off < len(data) {
		i := strings.IndexByte(data[off:], '\n')
		if i < 0 {
			i = len(data) - off
		}
		lines, offsets = append(lines, data[off:off+i]), append(offsets, int64(off))
		off += i + 1
	}
	return lines, offsets
}

// sharedDirOrEmpty is ../shared beside the repository root (the directory
// holding go.mod), or "" when there is no go.mod above.
func sharedDirOrEmpty() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
