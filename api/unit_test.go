package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/log-monitor/log_monitor/processors/hoststage"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/views"
)

// The request checks and the REST encoding need no service: these run in a
// plain `go test` (the integration tests cover them end to end).

func TestBounded(t *testing.T) {
	for _, tc := range []struct {
		n, want int32
	}{{0, 7}, {1, 1}, {9, 9}, {10, 10}, {11, 10}, {1 << 30, 10}} {
		if got, err := bounded("limit", tc.n, 7, 10); err != nil || got != int(tc.want) {
			t.Errorf("bounded(%d) = %d, %v; want %d", tc.n, got, err, tc.want)
		}
	}
	_, err := bounded("page_size", -2, 7, 10)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "page_size -2: must be positive") {
		t.Errorf("bounded(-2): %v", err)
	}
}

// TestRESTMarshalerNumbers: 64-bit integers are JSON numbers, in messages
// and in the gateway's stream wrapper.
func TestRESTMarshalerNumbers(t *testing.T) {
	m := newRESTMarshaler()
	b, err := m.Marshal(&pb.TopIPs{MetricDate: "2015-01-10", ByEvents: []*pb.IPCount{{Ip: "10.0.0.1", Cnt: 12}}})
	want := `{"by_events":[{"cnt":12,"ip":"10.0.0.1"}],"by_failures":[],"complete":false,"metric_date":"2015-01-10"}`
	if err != nil || string(b) != want {
		t.Errorf("message:\ngot  %s %v\nwant %s", b, err, want)
	}
	b, err = m.Marshal(map[string]any{"result": &pb.AlertEvent{Alert: &pb.Alert{AlertId: "a1", Count: 1 << 40}}})
	if err != nil || !strings.Contains(string(b), `"count":1099511627776`) || !strings.Contains(string(b), `"alert_id":"a1"`) {
		t.Errorf("stream wrapper: %s %v", b, err)
	}
}

// TestNetRates: bytes per second between two samples; a counter that went
// back (an agent restart) gives 0, not a huge number.
func TestNetRates(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	a := hoststage.Point{Time: t0, NetIn: 1000, NetOut: 500}
	in, out := netRates(a, hoststage.Point{Time: t0.Add(10 * time.Second), NetIn: 6000, NetOut: 400})
	if in != 500 || out != 0 {
		t.Errorf("rates %v %v, want 500 and 0 (counter reset)", in, out)
	}
	if in, out := netRates(a, hoststage.Point{Time: t0, NetIn: 9000}); in != 0 || out != 0 {
		t.Errorf("same instant: %v %v, want 0", in, out)
	}
}

// TestIPEventsChecks: without Elasticsearch the call says so; a bad
// address or limit is the caller's error; neither reaches a cluster.
func TestIPEventsChecks(t *testing.T) {
	s := &service{}
	if _, err := s.ListIPEvents(context.Background(), &pb.ListIPEventsRequest{Ip: "10.0.0.1"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("without Elasticsearch: %v, want FailedPrecondition", err)
	}
	s.events = &eventSearch{index: "ssh-log"}
	if _, err := s.ListIPEvents(context.Background(), &pb.ListIPEventsRequest{Ip: "not-an-ip"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad address: %v, want InvalidArgument", err)
	}
	if _, err := s.ListIPEvents(context.Background(), &pb.ListIPEventsRequest{Ip: "10.0.0.1", Limit: -1}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad limit: %v, want InvalidArgument", err)
	}
}

// TestIncidentDayChecks: day is a date, and not with since or until.
func TestIncidentDayChecks(t *testing.T) {
	s := &service{incidents: &views.Incidents{}, loc: time.UTC}
	for _, req := range []*pb.ListIncidentsRequest{{Day: "2015-13-01"}, {Day: "2015-12-10", Since: "2015-12-10T00:00:00Z"}} {
		if _, err := s.ListIncidents(context.Background(), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%+v: %v, want InvalidArgument", req, err)
		}
	}
}
