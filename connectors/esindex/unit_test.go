package esindex

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func TestDocMeta(t *testing.T) {
	id, ts, _, err := docMeta(KindEvents, []byte(`{"row_hash":"abc","event_time":"2015-12-10T06:55:46+09:00","ip":"1.2.3.4"}`))
	if err != nil || id != "abc" || !ts.Equal(time.Date(2015, 12, 9, 21, 55, 46, 0, time.UTC)) {
		t.Fatalf("event: %q %v %v", id, ts, err)
	}
	id, ts, _, err = docMeta(KindAlerts, []byte(`{"alert_id":"a1","@timestamp":"2015-12-10T00:00:00Z","episode_start":"2015-12-09T23:00:00Z"}`))
	if err != nil || id != "a1" || ts.Hour() != 23 {
		t.Fatalf("alert: %q %v %v (want episode_start)", id, ts, err)
	}
	id, ts, _, err = docMeta(KindMetrics, []byte(`{"metric_date":"2015-12-10","total_logs":3}`))
	if err != nil || id != "2015-12-10" || ts.Day() != 10 {
		t.Fatalf("metrics: %q %v %v", id, ts, err)
	}
	id, ts, v, err := docMeta(KindIncidents, []byte(`{"incident_id":"i1","version":3,"opened_at":"2015-12-10T00:00:00Z","first_event_time":"2015-12-01T00:00:00Z"}`))
	if err != nil || id != "i1" || v != 3 || ts.Day() != 10 {
		t.Fatalf("incident: %q %v %d %v (want opened_at and the version)", id, ts, v, err)
	}
	if _, _, _, err := docMeta(KindIncidents, []byte(`{"incident_id":"i1","opened_at":"2015-12-10T00:00:00Z"}`)); err == nil {
		t.Error("an incident without a version accepted")
	}
	for _, bad := range []string{`not json`, `{"event_time":"2015-12-10T06:55:46+09:00"}`, `{"row_hash":"x","event_time":"yesterday"}`} {
		if _, _, _, err := docMeta(KindEvents, []byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAppendAction(t *testing.T) {
	m := &sarama.ConsumerMessage{Value: []byte("{\n  \"row_hash\": \"a\\\"b\"\n}"), Offset: 41}
	it := &item{msg: m, kind: KindMetrics, index: "metrics-daily", id: `2015-12-10`, version: 42}
	got := string(appendAction(nil, it))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want action and document on two lines, got %q", got)
	}
	var action map[string]map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &action); err != nil {
		t.Fatal(err)
	}
	a := action["index"]
	if a["_index"] != "metrics-daily" || a["_id"] != "2015-12-10" || a["version"] != 42.0 || a["version_type"] != "external" {
		t.Fatalf("action %v", a)
	}
	if !json.Valid([]byte(lines[1])) {
		t.Fatalf("document line %q", lines[1])
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		status  int
		version int64
		want    outcome
	}{
		{200, 0, indexed}, {201, 0, indexed}, {409, 5, stale}, {409, 0, rejected},
		{429, 0, retry}, {500, 0, retry}, {503, 0, retry}, {400, 0, rejected}, {404, 0, rejected},
	}
	for _, c := range cases {
		if got := classify(&item{status: c.status, version: c.version}); got != c.want {
			t.Errorf("status %d version %d: %v, want %v", c.status, c.version, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt, hi := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
		hi *= time.Millisecond
		if hi > b.Max {
			hi = b.Max
		}
		seen := map[time.Duration]bool{}
		for i := 0; i < 50; i++ {
			d := b.Delay(attempt)
			if d < hi/2 || d > hi {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, hi/2, hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct delays in 50: no jitter", attempt, len(seen))
		}
	}
}

func TestErrorReason(t *testing.T) {
	r := errorReason(json.RawMessage(`{"type":"document_parsing_exception","reason":"failed to parse field [ip]","caused_by":{"type":"illegal_argument_exception","reason":"'x' is not an IP"}}`))
	if !strings.Contains(r, "document_parsing_exception: failed to parse field [ip]") || !strings.Contains(r, "'x' is not an IP") {
		t.Fatal(r)
	}
}
