package views

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/contracts"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{{}, {0: 0}, {0: 5, 1: 17, 2: 1 << 40}} {
		s := c.String()
		got, err := ParseCursor(s)
		if err != nil {
			t.Fatalf("%v -> %q: %v", c, s, err)
		}
		if len(c) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%v -> %q -> %v", c, s, got)
		}
	}
	for _, bad := range []string{"!!", "YWJj", "YzF8eDp5", "YzF8MTotMQ"} { // "abc", "c1|x:y", "c1|1:-1"
		if _, err := ParseCursor(bad); err != ErrBadCursor {
			t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestPageTokenRoundTrip(t *testing.T) {
	k := pageKey{ts: 1420851600123456789, id: "abc"}
	got, err := parsePageToken(k.token())
	if err != nil || got != k {
		t.Fatalf("%v -> %v %v", k, got, err)
	}
	for _, bad := range []string{"%%", "eA", "cDF8eHx5"} { // "x", "p1|x|y"
		if _, err := parsePageToken(bad); err != ErrBadPageToken {
			t.Errorf("parsePageToken(%q) = %v", bad, err)
		}
	}
}

func TestIDSetBounded(t *testing.T) {
	s := newIDSet(8)
	for i := range 100 {
		if !s.add(fmt.Sprint(i)) {
			t.Fatalf("%d seen before", i)
		}
		if s.add(fmt.Sprint(i)) {
			t.Fatalf("%d new twice", i)
		}
		if len(s.set) > 10 || len(s.order) > 10 {
			t.Fatalf("after %d: %d ids kept, bound 10", i, len(s.set))
		}
	}
	if !s.add("0") {
		t.Error("an id long forgotten should count as new")
	}
}

func alertMsg(t *testing.T, p int32, off int64, a contracts.Alert) *sarama.ConsumerMessage {
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	return &sarama.ConsumerMessage{Partition: p, Offset: off, Value: b}
}

func mkAlert(n int, rule, ip string) contracts.Alert {
	ts := time.Date(2015, 1, 10, 0, 0, 0, 0, time.UTC).Add(time.Duration(n/2) * time.Minute) // pairs share a timestamp
	return contracts.Alert{ID: fmt.Sprintf("id-%03d", n), Rule: rule, IP: ip, Timestamp: ts, LastEventTime: ts}
}

// TestAlertsMemoryDedupeFilterPaging: replays are dropped, memory is bounded,
// filters apply, and paging walks the newest-first order without gaps or
// repeats even when alerts share a timestamp.
func TestAlertsMemoryDedupeFilterPaging(t *testing.T) {
	a := NewAlerts(AlertsConfig{MaxAlerts: 40}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.ready = true
	off := map[int32]int64{}
	for n := range 100 {
		rule := contracts.RuleBruteForce
		if n%3 == 0 {
			rule = contracts.RuleRootAttempts
		}
		al := mkAlert(n, rule, fmt.Sprintf("10.0.0.%d", n%5))
		p := int32(n % 3)
		a.add(alertMsg(t, p, off[p], al))
		off[p]++
		if n%4 == 0 { // a replay
			a.add(alertMsg(t, p, off[p], al))
			off[p]++
		}
	}
	a.add(&sarama.ConsumerMessage{Partition: 0, Offset: off[0], Value: []byte("not json")})
	off[0]++
	if len(a.items) > 50 {
		t.Errorf("%d alerts in memory, bound 1.25 x 40", len(a.items))
	}
	seen := map[string]bool{}
	for _, it := range a.items {
		if seen[it.Alert.ID] {
			t.Errorf("%s kept twice", it.Alert.ID)
		}
		seen[it.Alert.ID] = true
	}
	for p, o := range off {
		if a.next[p] != o {
			t.Errorf("partition %d: next %d, want %d", p, a.next[p], o)
		}
	}
	// The newest kept alerts are the last ones added.
	all, next, err := a.List(AlertFilter{}, 1000, "")
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	if len(all) != len(a.items) || all[0].ID != "id-098" || all[1].ID != "id-099" {
		t.Fatalf("list: %d alerts, first %s", len(all), all[0].ID)
	}
	// Filters.
	f := AlertFilter{Rule: contracts.RuleRootAttempts, IP: "10.0.0.3", Since: all[len(all)-1].Timestamp, Until: all[0].Timestamp}
	got, _, _ := a.List(f, 1000, "")
	for _, al := range got {
		if al.Rule != f.Rule || al.IP != f.IP || al.Timestamp.Before(f.Since) || !al.Timestamp.Before(f.Until) {
			t.Errorf("filter %+v let %+v through", f, al)
		}
	}
	want := 0
	for _, al := range all {
		if f.match(&al) {
			want++
		}
	}
	if len(got) != want || want == 0 {
		t.Errorf("filter: %d alerts, want %d", len(got), want)
	}
	// Paging by 3 gives the full list.
	var paged []string
	token := ""
	for {
		page, next, err := a.List(AlertFilter{}, 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range page {
			paged = append(paged, al.ID)
		}
		if next == "" {
			break
		}
		token = next
	}
	var ids []string
	for _, al := range all {
		ids = append(ids, al.ID)
	}
	if !reflect.DeepEqual(paged, ids) {
		t.Errorf("paged %v\nwant  %v", paged, ids)
	}
	if _, _, err := a.List(AlertFilter{}, 3, "bad"); err != ErrBadPageToken {
		t.Errorf("bad token: %v", err)
	}
}

// TestSubscribeFromMemory: a subscriber from a cursor gets what follows it
// in memory, then what arrives, each once, with the cursor after it; a
// replay arriving later is not delivered again.
func TestSubscribeFromMemory(t *testing.T) {
	a := NewAlerts(AlertsConfig{MaxAlerts: 100}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.ready = true
	a.floor[0], a.floor[1] = 0, 0
	for n := range 6 {
		a.add(alertMsg(t, int32(n%2), int64(n/2), mkAlert(n, contracts.RuleBruteForce, "10.0.0.1")))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type got struct {
		id  string
		cur Cursor
	}
	out := make(chan got, 100)
	done := make(chan error, 1)
	go func() {
		done <- a.Subscribe(ctx, Cursor{0: 2, 1: 1}, AlertFilter{}, func(s StoredAlert, c Cursor) error {
			out <- got{s.Alert.ID, c}
			return nil
		})
	}()
	want := []string{"id-003", "id-004", "id-005"} // p0 offset 2 (id-004); p1 offsets 1, 2 (id-003, id-005)
	var ids []string
	for range want {
		g := <-out
		ids = append(ids, g.id)
	}
	// Then a new alert and a replay of an old one.
	a.add(alertMsg(t, 0, 3, mkAlert(6, contracts.RuleBruteForce, "10.0.0.1")))
	a.add(alertMsg(t, 1, 3, mkAlert(3, contracts.RuleBruteForce, "10.0.0.1")))
	a.add(alertMsg(t, 1, 4, mkAlert(7, contracts.RuleBruteForce, "10.0.0.1")))
	var last Cursor
	for range 2 {
		g := <-out
		ids = append(ids, g.id)
		last = g.cur
	}
	select {
	case g := <-out:
		t.Errorf("extra delivery %s", g.id)
	case <-time.After(200 * time.Millisecond):
	}
	sort.Strings(ids[:3])
	if !reflect.DeepEqual(ids, append(want, "id-006", "id-007")) {
		t.Errorf("delivered %v", ids)
	}
	if !reflect.DeepEqual(last, Cursor{0: 4, 1: 5}) {
		t.Errorf("last cursor %v, want p0 4, p1 5", last)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
