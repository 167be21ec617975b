package views

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/contracts"
)

func incidentMsg(t *testing.T, offset int64, inc contracts.Incident) *sarama.ConsumerMessage {
	b, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	return &sarama.ConsumerMessage{Partition: 0, Offset: offset, Value: b}
}

func TestIncidentsKeepTheNewestVersionAndPage(t *testing.T) {
	v := NewIncidents(IncidentsConfig{MaxIncidents: 100}, slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var got []*contracts.Incident
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		close(watching)
		_ = v.Subscribe(ctx, IncidentFilter{Severity: "critical"}, func(inc *contracts.Incident) error { got = append(got, inc); return nil })
	}()
	<-watching
	time.Sleep(10 * time.Millisecond)
	off := int64(0)
	add := func(inc contracts.Incident) { v.add(incidentMsg(t, off, inc)); off++ }
	for i := range 5 {
		add(contracts.Incident{ID: string(rune('a' + i)), Key: "10.0.0.1", Version: 1, Status: "open", Severity: "high",
			Rules: []string{"brute_force"}, LastEventTime: t0.Add(time.Duration(i) * time.Minute)})
	}
	add(contracts.Incident{ID: "c", Key: "10.0.0.1", Version: 3, Status: "updated", Severity: "critical", Rules: []string{"brute_force", "compromise_suspected"}, LastEventTime: t0.Add(10 * time.Minute)})
	add(contracts.Incident{ID: "c", Key: "10.0.0.1", Version: 2, Status: "updated", Severity: "high", LastEventTime: t0.Add(9 * time.Minute)}) // older: ignored
	v.next[0] = off
	v.checkReady(map[int32]int64{0: off})
	inc, err := v.Get("c")
	if err != nil || inc == nil || inc.Version != 3 {
		t.Fatalf("get c: %+v %v", inc, err)
	}
	page, next, err := v.List(IncidentFilter{}, 2, "")
	if err != nil || len(page) != 2 || page[0].ID != "c" || page[1].ID != "e" || next == "" {
		t.Fatalf("first page: %+v %q %v", page, next, err)
	}
	page, next, err = v.List(IncidentFilter{}, 10, next)
	if err != nil || len(page) != 3 || page[0].ID != "d" || next != "" {
		t.Fatalf("second page: %+v %q %v", page, next, err)
	}
	if page, _, _ := v.List(IncidentFilter{Rule: "compromise_suspected"}, 10, ""); len(page) != 1 {
		t.Fatalf("by rule: %+v", page)
	}
	if page, _, _ := v.List(IncidentFilter{Since: t0.Add(3 * time.Minute), Until: t0.Add(5 * time.Minute)}, 10, ""); len(page) != 2 {
		t.Fatalf("by time: %+v", page)
	}
	if _, _, err := v.List(IncidentFilter{}, 10, "garbage!"); err == nil {
		t.Fatal("a bad token accepted")
	}
	time.Sleep(10 * time.Millisecond)
	cancel()
	<-done
	if len(got) != 1 || got[0].ID != "c" {
		t.Fatalf("watched %+v, want the critical version of c", got)
	}
}
