package tracker_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/incidentstage"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/topics"
)

// checkIncidents runs the incident stage over the replica's alerts twice,
// the second time stopped halfway and started again, and checks that each
// planted scenario of SSH.labels.json is one incident (key, rule, severity,
// time) and that both runs give the same incident ids and versions.
// (TestCrashRecoveryAndTwoInstances checks a SIGKILLed one.)
func checkIncidents(t *testing.T, r *pipeline.Run, alerts int) {
	t.Helper()
	first := runIncidents(t, r, "incidents-a", 0)
	compareIncidents(t, "stopped halfway", runIncidents(t, r, "incidents-b", alerts/2), first)
	raw, err := os.ReadFile(testkit.SharedData(t, "ssh-replica/SSH.labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Scenarios []struct{ Scenario, IP, User, Start string } `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	for _, s := range labels.Scenarios {
		start, err := time.ParseInLocation("2006-01-02T15:04:05", s.Start, r.Loc)
		if err != nil {
			t.Fatal(err)
		}
		key, keyType := s.IP, contracts.KeyTypeIP
		if s.Scenario == contracts.RuleDistributedAttack {
			key, keyType = s.User, contracts.KeyTypeUser
		}
		var found *contracts.Incident
		for _, inc := range first {
			if inc.Key == key && slices.Contains(inc.Rules, s.Scenario) && !inc.LastEventTime.Before(start) &&
				inc.FirstEventTime.Before(start.Add(24*time.Hour)) {
				found = inc
			}
		}
		switch {
		case found == nil:
			t.Errorf("scenario %s (%s at %s): no incident", s.Scenario, key, s.Start)
		case found.KeyType != keyType || contracts.SeverityRank(found.Severity) < contracts.SeverityRank("high") && s.Scenario == contracts.RuleCompromise:
			t.Errorf("scenario %s: incident %+v", s.Scenario, found)
		default:
			t.Logf("scenario %s (%s at %s): incident %s, %s, rules %v, %d alerts, %s to %s", s.Scenario, key, s.Start, found.ID,
				found.Severity, found.Rules, found.AlertCount, found.FirstEventTime.In(r.Loc).Format(time.RFC3339), found.LastEventTime.In(r.Loc).Format(time.RFC3339))
		}
	}
	t.Logf("%d alerts, %d incidents", alerts, len(first))
}

// compareIncidents checks that got holds the same incidents as want, each
// at the same newest version.
func compareIncidents(t *testing.T, what string, got, want map[string]*contracts.Incident) {
	t.Helper()
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("incidents: %d %s, %d uninterrupted", len(got), what, len(want))
	}
	differ := 0
	for id, a := range want {
		if b := got[id]; b == nil || b.Version != a.Version || b.Status != a.Status || b.AlertCount != a.AlertCount {
			if differ < 3 {
				t.Errorf("incident %s: %+v uninterrupted, %+v %s", id, a, b, what)
			}
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("%s: %d of %d incidents differ from the uninterrupted run", what, differ, len(want))
	}
	t.Logf("%s: %d incidents, the same ids and versions as the uninterrupted run", what, len(got))
}

// runIncidents runs an incident stage of its own over the run's alerts
// until it has applied them all (stopped once after about stopAfter
// incident versions, and started again, when stopAfter > 0) and returns
// the newest version of each incident.
func runIncidents(t *testing.T, r *pipeline.Run, name string, stopAfter int) map[string]*contracts.Incident {
	t.Helper()
	group := r.Group + "-" + name
	out := group + "-out"
	dir := t.TempDir()
	start := func() (stop func()) {
		st := incidentstage.New(incidentstage.Config{Kafka: r.K, Group: group, Alerts: r.Alerts, Incidents: out,
			StorageDir: filepath.Join(dir, "storage")}, nil, pipeline.Logger)
		return pipeline.Background(t, name, st.Run)
	}
	stop := start()
	if stopAfter > 0 {
		deadline := time.Now().Add(2 * time.Minute)
		for len(testkit.ReadAll(t, r.K, out)) < stopAfter && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		stop()
		stop = start()
	}
	defer stop()
	return waitIncidents(t, r, group, out)
}

// waitIncidents waits until the incident stage of group has applied every
// alert of the run and returns the newest version of each incident in out.
func waitIncidents(t *testing.T, r *pipeline.Run, group, out string) map[string]*contracts.Incident {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		lag, err := topics.GroupLag(testkit.Context(t, time.Minute), r.K, group, []string{r.Alerts})
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident stage %s: lag %d after 3 minutes (%v)", group, lag, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	newest := map[string]*contracts.Incident{}
	for _, m := range testkit.ReadAll(t, r.K, out) {
		var inc contracts.Incident
		if err := json.Unmarshal(m.Value, &inc); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != inc.Key {
			t.Fatalf("incident %s under key %q, want %q", inc.ID, m.Key, inc.Key)
		}
		if prev := newest[inc.ID]; prev == nil || inc.Version > prev.Version {
			newest[inc.ID] = &inc
		}
	}
	return newest
}
