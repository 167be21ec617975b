package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// TestWatchAlerts: a subscriber gets an alert produced to the alert topic
// after it subscribed (gRPC and REST); a client that disconnects and
// reconnects with its last cursor gets every alert produced meanwhile, once,
// in order, also when the view no longer holds them in memory (they are
// read back from Kafka) and when some were replayed (same alert_id).
func TestWatchAlerts(t *testing.T) {
	f := newFixture(t, "it-api-watch")
	p := f.producer(t)
	p.send(t, testAlert(0, "192.0.2.10")) // before anyone subscribes
	f.startTrackerView(t)
	const keep = 4 // the view keeps at most 5 alerts (1.25 x 4)
	av := f.alertsView(t, keep)
	s := startServer(t, f.config(), f.tv, av)
	c := s.client(t)

	// gRPC: subscribe from now.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := c.WatchAlerts(ctx, &pb.WatchAlertsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.Alert != nil || first.Cursor == "" {
		t.Fatalf("first message %v: want the starting cursor only", first)
	}
	// REST: subscribe from now too (filtered on one IP).
	rest := restStream(t, s, "/v1/alerts/watch?ip=192.0.2.11")

	sent := time.Now()
	p.send(t, testAlert(1, "192.0.2.11"))
	ev, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Alert.GetAlertId() != "test-0001" || ev.Cursor == "" {
		t.Fatalf("gRPC stream got %v, want test-0001 (test-0000 predates the subscription)", ev)
	}
	t.Logf("gRPC: alert delivered %v after it was produced", time.Since(sent).Round(time.Millisecond))
	select {
	case m := <-rest:
		if m.ID != "test-0001" || m.Count != 11 {
			t.Fatalf("REST stream got %+v", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("REST stream: no alert within 30 s")
	}
	cursor := ev.Cursor
	cancel() // the client goes away

	// While it is away: 8 alerts (more than the view keeps) and a replay.
	for n := 2; n <= 9; n++ {
		p.send(t, testAlert(n, fmt.Sprintf("192.0.2.%d", 20+n)))
	}
	p.send(t, testAlert(5, "192.0.2.25")) // replayed: same alert_id
	p.send(t, testAlert(10, "192.0.2.30"))

	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	st2, err := c.WatchAlerts(ctx2, &pb.WatchAlertsRequest{Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 9 {
		ev, err := st2.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, ev.Alert.GetAlertId())
	}
	// Nothing more may come: a duplicate of test-0005 would arrive now.
	extra := make(chan string, 1)
	go func() {
		if ev, err := st2.Recv(); err == nil {
			extra <- ev.Alert.GetAlertId()
		}
	}()
	select {
	case id := <-extra:
		t.Errorf("an extra alert %s after the nine", id)
	case <-time.After(2 * time.Second):
	}
	// Per partition the order is the topic's; across partitions any order.
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for n := 2; n <= 10; n++ {
		if id := fmt.Sprintf("test-%04d", n); seen[id] != 1 {
			t.Errorf("%s delivered %d times after the reconnect; got %v", id, seen[id], got)
		}
	}

	// A bad cursor is InvalidArgument / 400.
	st3, err := c.WatchAlerts(ctx2, &pb.WatchAlertsRequest{Cursor: "not-a-cursor"})
	if err == nil {
		_, err = st3.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad cursor: %v, want InvalidArgument", err)
	}
	if code, _ := s.restRaw(t, "/v1/alerts/watch?cursor=%21%21", ""); code != http.StatusBadRequest {
		t.Errorf("REST bad cursor: %d", code)
	}
}

// restAlert is an alert of the REST stream.
type restAlert struct {
	ID    string
	Count int64
}

// restStream reads the REST alert stream (newline-delimited JSON) and sends
// each message that carries an alert.
func restStream(t *testing.T, s *server, path string) <-chan restAlert {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("REST stream: %d", resp.StatusCode)
	}
	out := make(chan restAlert, 16)
	ready := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		first := true
		for sc.Scan() {
			var m struct {
				Result struct {
					Alert *struct {
						AlertID string          `json:"alert_id"`
						Count   json.RawMessage `json:"count"`
					} `json:"alert"`
				} `json:"result"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("REST stream line %s: %v", sc.Bytes(), err)
				return
			}
			if first {
				first = false
				close(ready)
			}
			if m.Result.Alert == nil {
				continue
			}
			// A JSON number, not protojson's string.
			n, err := strconv.ParseInt(string(m.Result.Alert.Count), 10, 64)
			if err != nil {
				t.Errorf("REST stream count %s is not a number", m.Result.Alert.Count)
			}
			out <- restAlert{ID: m.Result.Alert.AlertID, Count: n}
		}
	}()
	select {
	case <-ready: // the starting cursor came: subscribed
	case <-time.After(30 * time.Second):
		t.Fatal("REST stream: no starting cursor within 30 s")
	}
	return out
}
