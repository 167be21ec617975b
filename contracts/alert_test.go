package contracts

import (
	"encoding/json"
	"testing"
	"time"
)

func sampleAlert() Alert {
	last := time.Date(2015, 12, 10, 7, 8, 28, 0, time.UTC)
	return Alert{Timestamp: last, ID: "0123456789abcdef0123456789abcdef", Rule: RuleBruteForce, Severity: "high",
		Level: 1, Seq: 2, IP: "112.95.230.3", User: "root", Hosts: []string{"LabSZ"}, Users: []string{"root", "admin"},
		SampleRowHashes: []string{"aa", "bb"}, Count: 25, WindowSeconds: 300,
		WindowStart: last.Add(-90 * time.Second), FirstEventTime: last.Add(-200 * time.Second), LastEventTime: last,
		EpisodeStart: last.Add(-100 * time.Second), SameUser: true, Offset: 123456, Message: "brute force from 112.95.230.3"}
}

func TestAlertJSONFields(t *testing.T) {
	a := sampleAlert()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"@timestamp", "alert_id", "rule", "severity", "level", "seq", "ip", "user", "hosts", "users",
		"sample_row_hashes", "count", "window_seconds", "window_start", "first_event_time", "last_event_time",
		"episode_start", "same_user", "source_offset", "message"} {
		if _, ok := m[f]; !ok {
			t.Errorf("field %s missing in %s", f, b)
		}
	}
	if _, ok := m["ips"]; ok {
		t.Errorf("empty ips written: %s", b)
	}
	if a.Key() != a.IP {
		t.Errorf("key %q", a.Key())
	}
	a.IP = ""
	if a.Key() != "root" {
		t.Errorf("key without IP %q", a.Key())
	}
}
