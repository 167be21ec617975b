package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
)

// TestReplicaDailyMetricsEqualDocuments pushes the 655,147-line replica
// through ingest, the tracker and the metrics-daily emitter on the real
// Kafka; then, for every day, GET /v1/metrics/daily/{date} is the day's last
// metrics-daily document field for field (created_at aside: it says when
// each was made), numbers as numbers, and the gRPC answer holds the same values.
func TestReplicaDailyMetricsEqualDocuments(t *testing.T) {
	f := newFixture(t, "it-api-replica")
	start := time.Now()
	f.Publish(t, testkit.Replica(t, f.Dir))
	t.Logf("replica published in %v", time.Since(start).Round(time.Second))
	f.process(t, 5*time.Minute)

	deadline := time.Now().Add(3 * time.Minute)
	if docs := f.Settle(t, 3*time.Minute, pipeline.AllFinal(1)); !pipeline.AllFinal(1)(docs) {
		t.Fatal("the days did not all close within 3 minutes")
	}

	// The topic's last document per day, as the bytes consumers read.
	want := map[string]map[string]any{}
	for _, m := range testkit.ReadAll(t, f.K, f.Metrics) {
		want[string(m.Key)] = decodeNumbers(t, m.Value)
	}
	days := make([]string, 0, len(want))
	for d := range want {
		days = append(days, d)
	}
	sort.Strings(days)
	if len(days) < 30 {
		t.Fatalf("%d days in metrics-daily, want the replica's 30", len(days))
	}

	s := startServer(t, f.config(), f.tv, f.alertsView(t, 0))
	c := s.client(t)
	ctx := testkit.Context(t, 3*time.Minute)
	bad := 0
	for _, day := range days {
		var got map[string]any
		for {
			code, body := s.restRaw(t, "/v1/metrics/daily/"+day, "")
			if code != 200 {
				t.Fatalf("%s: %d %s", day, code, body)
			}
			got = decodeNumbers(t, body)
			// The API applies the emitter's closing rule with its default
			// idle time (30 s): the last days close a little later there.
			if got["final"] == true || time.Now().After(deadline.Add(2*time.Minute)) {
				break
			}
			time.Sleep(time.Second)
		}
		w := want[day]
		if _, err := time.Parse(time.RFC3339Nano, got["created_at"].(string)); err != nil {
			t.Errorf("%s: created_at %v: %v", day, got["created_at"], err)
		}
		delete(got, "created_at")
		delete(w, "created_at")
		if !reflect.DeepEqual(got, w) {
			bad++
			if bad <= 3 {
				g, _ := json.Marshal(got)
				wj, _ := json.Marshal(w)
				t.Errorf("%s: REST answer differs from the metrics-daily document:\ngot  %s\nwant %s", day, g, wj)
			}
		}
		// gRPC: the same values.
		g, err := c.GetDailyMetrics(ctx, &pb.GetDailyMetricsRequest{Date: day})
		if err != nil {
			t.Fatal(err)
		}
		var doc contracts.DailyMetrics
		if b, err := json.Marshal(w); err != nil || json.Unmarshal(b, &doc) != nil {
			t.Fatalf("%s: document %v", day, w)
		}
		if g.TotalLogs != doc.TotalLogs || g.ErrorCount != doc.ErrorCount || g.UniqueIps != doc.UniqueIPs ||
			g.PeakHour != int64(doc.PeakHour) || g.PeakHourLogs != doc.PeakHourLogs || g.BruteForceIps != doc.BruteForceIPs ||
			!reflect.DeepEqual(g.HourlyLogs, doc.HourlyLogs) || len(g.TopIpList) != len(doc.TopIPList) || len(g.TopBruteList) != len(doc.TopBruteList) {
			t.Errorf("%s: gRPC answer %v differs from the document %+v", day, g, doc)
		}
		for i := range g.TopIpList {
			if g.TopIpList[i].Ip != doc.TopIPList[i].IP || g.TopIpList[i].Cnt != doc.TopIPList[i].Cnt {
				t.Errorf("%s: gRPC top_ip_list %v, document %v", day, g.TopIpList, doc.TopIPList)
			}
		}
	}
	t.Logf("%d days: the API's answer equals the last metrics-daily document on %d", len(days), len(days)-bad)
}

func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}
