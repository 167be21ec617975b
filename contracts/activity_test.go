package contracts_test

import (
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

func TestCountActivityCountsFailuresAndSuccessesPerHostAndMinute(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 30, 0, time.UTC)
	acts := map[string]map[int64]*contracts.MinuteActivity{}
	for _, e := range []contracts.Event{
		{HostName: "a", EventTime: at, EventType: contracts.TypeAuthFailure, IP: "1.1.1.1"},
		{HostName: "a", EventTime: at.Add(10 * time.Second), EventType: contracts.TypeAuthFailure, IP: "1.1.1.1"},
		{HostName: "a", EventTime: at.Add(40 * time.Second), EventType: contracts.TypeAuthSuccess, IP: "2.2.2.2"},
		{HostName: "b", EventTime: at, EventType: contracts.TypeAuthFailure, IP: "3.3.3.3"},
		{HostName: "b", EventTime: at, EventType: contracts.TypeConnectionReset, IP: "3.3.3.3"},
	} {
		contracts.CountActivity(acts, &e)
	}
	got := contracts.Activities(acts)
	if len(got) != 2 || got[0].HostName != "a" || len(got[0].Minutes) != 2 || got[1].HostName != "b" || len(got[1].Minutes) != 1 {
		t.Fatalf("activities: %+v", got)
	}
	m0, m1 := got[0].Minutes[0], got[0].Minutes[1]
	if m0.Failed != 2 || m0.FailedByIP["1.1.1.1"] != 2 || m0.Succeeded != 0 || !m0.Minute.Equal(at.Truncate(time.Minute)) {
		t.Errorf("a, first minute: %+v", m0)
	}
	if m1.Succeeded != 1 || m1.Failed != 0 {
		t.Errorf("a, second minute: %+v", m1)
	}
	if b := got[1].Minutes[0]; b.Failed != 1 || b.Succeeded != 0 {
		t.Errorf("b: %+v", b)
	}
}
