package sshlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sameEvent reports whether two decoded events are identical, times
// compared by instant and zone.
func sameEvent(a, b Event) bool {
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
func decodeBoth(t testing.TB, data []byte) (Event, error) {
	t.Helper()
	var fast, std Event
	errFast, errStd := fast.UnmarshalJSON(data), std.unmarshalStd(data)
	if (errFast == nil) != (errStd == nil) {
		t.Fatalf("%q: UnmarshalJSON error %v, encoding/json %v", data, errFast, errStd)
	}
	if errFast == nil && !sameEvent(fast, std) {
		t.Fatalf("%q: UnmarshalJSON\n%+v\nencoding/json\n%+v", data, fast, std)
	}
	return fast, errFast
}

func sampleEvents(t testing.TB) []Event {
	var events []Event
	collected := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)
	for _, f := range []struct {
		path string
		year int
	}{
		{filepath.Join(sharedDirOrEmpty(), "data", "loghub-openssh", "OpenSSH_2k.log"), 2015},
		{"testdata/modern_auth.log", 2024},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Logf("%s: %v", f.path, err)
			continue
		}
		p := NewParser(Source{Path: f.path, Year: f.year, Loc: time.FixedZone("KST", 9*3600)}, nil)
		for _, l := range splitLines(string(b)) {
			events = append(events, p.Parse(l.text, l.offset, collected))
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
		var flat Event
		took := decodeFlat(b, &flat)
		if !took && !bytes.Contains(b, []byte{'\\'}) {
			t.Errorf("fast path refused %s", b)
		}
		if took {
			fastN++
			var std Event
			if err := std.unmarshalStd(b); err != nil || !sameEvent(flat, std) {
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
		var e Event
		if took := decodeFlat([]byte(c.in), &e); took != c.fast {
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
		decode func(*Event, []byte) error
	}{
		{"fast", (*Event).UnmarshalJSON},
		{"encoding-json", (*Event).unmarshalStd},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var e Event
				if err := v.decode(&e, values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
