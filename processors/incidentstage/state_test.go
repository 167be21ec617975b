package incidentstage

import (
	"fmt"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func alert(rule, severity string, at time.Duration, count int64, episode time.Duration) *contracts.Alert {
	return &contracts.Alert{ID: fmt.Sprintf("%s-%v-%d", rule, at, count), Rule: rule, Severity: severity, IP: "203.0.113.7",
		Count: count, Timestamp: t0.Add(at), LastEventTime: t0.Add(at), FirstEventTime: t0.Add(episode), WindowStart: t0.Add(episode),
		EpisodeStart: t0.Add(episode), Users: []string{"root"}, Hosts: []string{"web-1"}}
}

// The burst of issue 17: six alerts of one IP within two minutes are one
// incident, a version each, with the highest severity and the largest
// failure count.
func TestBurstIsOneIncident(t *testing.T) {
	k := NewKeyState()
	burst := []*contracts.Alert{
		alert(contracts.RuleRootAttempts, "medium", 10*time.Second, 10, 0),
		alert(contracts.RuleBruteForce, "medium", 20*time.Second, 21, 0),
		alert(contracts.RuleRootAttempts, "high", 30*time.Second, 21, 0),
		alert(contracts.RuleBruteForce, "high", 60*time.Second, 40, 0),
		alert(contracts.RuleRootAttempts, "high", 90*time.Second, 40, 0),
		alert(contracts.RuleBruteForce, "critical", 120*time.Second, 81, 0),
	}
	var last *contracts.Incident
	for i, a := range burst {
		out := k.Apply(a, int64(i), t0, time.Hour)
		if len(out) != 1 {
			t.Fatalf("alert %d: %d versions", i, len(out))
		}
		last = out[0]
		if last.Version != int64(i+1) || (i == 0) != (last.Status == contracts.IncidentOpen) {
			t.Fatalf("alert %d: version %d status %s", i, last.Version, last.Status)
		}
	}
	if last.ID != contracts.IncidentID(burst[0].ID) || last.Severity != "critical" || fmt.Sprint(last.Rules) != "[brute_force root_attempts]" ||
		last.FailedAttempts != 81 || last.AlertCount != 6 || len(last.AlertIDs) != 6 || last.KeyType != contracts.KeyTypeIP ||
		!last.FirstEventTime.Equal(t0) || !last.LastEventTime.Equal(t0.Add(2*time.Minute)) || fmt.Sprint(last.UsersTried) != "[root]" {
		t.Fatalf("incident: %+v", last)
	}
	// The same alert again (re-sent upstream): nothing new.
	if out := k.Apply(burst[3], 6, t0, time.Hour); len(out) != 0 {
		t.Fatalf("a known alert gave %d versions", len(out))
	}
}

// Activity more than the gap after the incident's last event starts a new
// incident and closes the old one; episodes of one rule add up.
func TestGapStartsANewIncident(t *testing.T) {
	k := NewKeyState()
	k.Apply(alert(contracts.RuleBruteForce, "medium", 0, 20, 0), 0, t0, time.Hour)
	// A second brute-force episode within the gap: counts add.
	out := k.Apply(alert(contracts.RuleBruteForce, "medium", 50*time.Minute, 30, 40*time.Minute), 1, t0, time.Hour)
	if out[0].FailedAttempts != 50 || out[0].Version != 2 {
		t.Fatalf("two episodes: %+v", out[0])
	}
	first := out[0].ID
	out = k.Apply(alert(contracts.RuleBruteForce, "high", 3*time.Hour, 25, 2*time.Hour+55*time.Minute), 2, t0, time.Hour)
	if len(out) != 2 || out[0].ID != first || out[0].Status != contracts.IncidentClosed || out[0].Version != 3 ||
		out[1].ID == first || out[1].Status != contracts.IncidentOpen || out[1].Version != 1 || out[1].FailedAttempts != 25 {
		t.Fatalf("after the gap: %+v %+v", out[0], out[1])
	}
}

func TestQuietKeyCloses(t *testing.T) {
	k := NewKeyState()
	k.Apply(alert(contracts.RuleCompromise, "critical", 0, 1, 0), 0, t0, time.Hour)
	if k.Current.SuccessfulLogins != 1 {
		t.Fatalf("successful logins %d", k.Current.SuccessfulLogins)
	}
	if k.DueToClose(t0.Add(59*time.Minute), time.Hour) || !k.DueToClose(t0.Add(time.Hour), time.Hour) {
		t.Fatal("due to close: wrong moment")
	}
	// A check sent before a new alert arrived closes nothing.
	k.Apply(alert(contracts.RuleBruteForce, "high", time.Minute, 20, 0), 1, t0.Add(30*time.Minute), time.Hour)
	if out := k.Close(0, t0.Add(10*time.Minute)); len(out) != 0 {
		t.Fatalf("closed although an alert arrived after the check's moment: %+v", out)
	}
	out := k.Close(1, t0.Add(31*time.Minute))
	if len(out) != 1 || out[0].Status != contracts.IncidentClosed || out[0].Version != 3 {
		t.Fatalf("close: %+v", out)
	}
	if k.DueToClose(t0.Add(5*time.Hour), time.Hour) {
		t.Fatal("a closed incident is due again")
	}
}

// A message at or below the last applied offset is a replay: the same
// versions again, no change.
func TestReplayEmitsTheSameVersions(t *testing.T) {
	k := NewKeyState()
	if _, ok := k.Replayed(FromAlert, 0); ok {
		t.Fatal("offset 0 of a new key counted as a replay")
	}
	k.Apply(alert(contracts.RuleBruteForce, "medium", 0, 20, 0), 0, t0, time.Hour)
	want := k.Apply(alert(contracts.RuleBruteForce, "high", time.Minute, 40, 0), 1, t0, time.Hour)
	again, ok := k.Replayed(FromAlert, 1)
	if !ok || len(again) != 1 || again[0].Version != want[0].Version || again[0].ID != want[0].ID {
		t.Fatalf("replay of the last message: %+v", again)
	}
	older, ok := k.Replayed(FromAlert, 0)
	if !ok || len(older) != 1 || older[0].Version != 2 {
		t.Fatalf("replay of an older message: %+v", older)
	}
	if _, ok := k.Replayed(FromCheck, 0); ok {
		t.Fatal("checks have offsets of their own")
	}
}
