package api

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
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
