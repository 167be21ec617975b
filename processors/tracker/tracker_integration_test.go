package tracker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/detect/reference"
	"github.com/log-monitor/log_monitor/processors/incidentstage"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/topics"
)

var logger = pipeline.Logger

// run is one test's set of topics and group (testkit/pipeline).
type run = pipeline.Run

// settle runs the day view and the emitter until every expected day has a
// final document equal to want, or the time is up.
func settle(t *testing.T, r *run, want map[string]contracts.DailyMetrics, limit time.Duration) map[string]contracts.DailyMetrics {
	t.Helper()
	return r.Settle(t, limit, func(docs map[string]contracts.DailyMetrics) bool { return allFinalAndEqual(docs, want) })
}

func allFinalAndEqual(docs, want map[string]contracts.DailyMetrics) bool {
	if len(docs) != len(want) {
		return false
	}
	for day, w := range want {
		d, ok := docs[day]
		if !ok || !d.Final || diff(d, w) != "" {
			return false
		}
	}
	return true
}

// diff describes how a streaming document differs from the batch one.
func diff(got, want contracts.DailyMetrics) string {
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.Final, want.Final = false, false
	if reflect.DeepEqual(got, want) {
		return ""
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return fmt.Sprintf("got  %s\nwant %s", g, w)
}

func compareDays(t *testing.T, docs, want map[string]contracts.DailyMetrics) {
	t.Helper()
	days := make([]string, 0, len(want))
	for d := range want {
		days = append(days, d)
	}
	sort.Strings(days)
	bad := 0
	for _, day := range days {
		d, ok := docs[day]
		switch {
		case !ok:
			t.Errorf("%s: no metrics-daily document", day)
			bad++
		case !d.Final:
			t.Errorf("%s: document not final", day)
			bad++
		default:
			if s := diff(d, want[day]); s != "" {
				t.Errorf("%s differs from the batch count:\n%s", day, s)
				bad++
			}
		}
	}
	if len(docs) != len(want) {
		t.Errorf("%d documents, %d days in the data", len(docs), len(want))
	}
	t.Logf("%d days compared with the batch computation, %d differ", len(days), bad)
}

// TestReplicaExactDailyMetricsAndScenarios pushes the 655,147-line replica
// through ingest and the tracker group on the real Kafka: every day's final
// metrics-daily document equals the batch computation over the parsed
// events, and each scenario planted in SSH.labels.json raises its alert.
func TestReplicaExactDailyMetricsAndScenarios(t *testing.T) {
	r := pipeline.New(t, "it-tracker-replica")
	replica := sharedReplica(t)
	events := parseFile(t, replica, 2015, r.Loc)
	want := batchDaily(events, r.Loc)
	r.Publish(t, replica)

	start := time.Now()
	r.StartTracker(t)
	docs := settle(t, r, want, 5*time.Minute)
	t.Logf("replica processed and settled in %v", time.Since(start).Round(time.Second))
	compareDays(t, docs, want)

	alerts := r.ReadAlerts(t)
	checkScenarios(t, alerts, r.Loc)
	compareAlertedKeys(t, alerts, events)
	replicaAlertIDs = map[string]bool{}
	for _, a := range alerts {
		replicaAlertIDs[a.ID] = true
	}
	replicaTables = positionless(tables(t, r))
	checkIncidents(t, r, len(alerts))
}

// replicaAlertIDs and replicaTables are the alert ids and the tables (without
// positions) of TestReplicaExactDailyMetricsAndScenarios (ingest and
// processing uninterrupted, 3 partitions), for the tests below to compare
// with, without a replica run of their own.
var (
	replicaAlertIDs map[string]bool
	replicaTables   map[string]interface{}
)

// TestTwelvePartitionsThreeInstances runs the replica through an ssh-log of
// 12 partitions and three instances sharing them: an install that chose 12
// partitions to scale out gets what one instance on 3 partitions gets, the
// same alert ids, the same state per IP and per user, and daily documents
// equal to the batch computation.
func TestTwelvePartitionsThreeInstances(t *testing.T) {
	r := pipeline.NewPartitioned(t, "it-tracker-p12", 12)
	// The same file as TestReplicaExactDailyMetricsAndScenarios's: row
	// hashes (kept in the rules' samples) depend on the path.
	replica := sharedReplica(t)
	want := batchDaily(parseFile(t, replica, 2015, r.Loc), r.Loc)
	r.Publish(t, replica)
	for _, inst := range []string{"a", "b", "c"} {
		tr := r.Tracker(t, inst)
		pipeline.Background(t, "instance "+inst, func(ctx context.Context) error { return tr.Run(ctx) })
	}
	r.WaitCaughtUp(t, 5*time.Minute)
	compareDays(t, settle(t, r, want, 3*time.Minute), want)
	checkScenarios(t, r.ReadAlerts(t), r.Loc)
	if replicaAlertIDs == nil {
		t.Log("TestReplicaExactDailyMetricsAndScenarios did not run before: alert ids and tables not compared with 3 partitions")
		return
	}
	ids := alertIDs(t, r, r.Alerts)
	if !reflect.DeepEqual(ids, replicaAlertIDs) {
		t.Errorf("12 partitions: %d alert ids, 3 partitions %d, not the same", len(ids), len(replicaAlertIDs))
	}
	tab := positionless(tables(t, r))
	differ := 0
	for k, v := range replicaTables {
		if !reflect.DeepEqual(v, tab[k]) {
			if differ < 3 {
				t.Errorf("key %s:\n%+v\nwith 12 partitions,\n%+v\nwith 3", k, tab[k], v)
			}
			differ++
		}
	}
	t.Logf("12 partitions, 3 instances: %d alert ids, %d table keys (3 partitions: %d), %d differ", len(ids), len(tab), len(replicaTables), differ)
	if len(tab) != len(replicaTables) || differ > 0 {
		t.Errorf("tables differ from 3 partitions': %d keys against %d, %d differ", len(tab), len(replicaTables), differ)
	}
}

// sharedDir holds what the package's tests share (removed by TestMain).
var sharedDir string

// sharedReplica is the replica at one path for every test of the package.
func sharedReplica(t *testing.T) string {
	t.Helper()
	if sharedDir == "" {
		dir, err := os.MkdirTemp("", "logmon-tracker-test-")
		if err != nil {
			t.Fatal(err)
		}
		sharedDir = dir
	}
	path := filepath.Join(sharedDir, "ssh-replica.log")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	return testkit.Replica(t, sharedDir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// positionless drops from table values what depends on the partitioning:
// the applied ssh-log offsets and the positions of an IP's first and
// brute-force events of a day.
func positionless(tab map[string]interface{}) map[string]interface{} {
	for _, v := range tab {
		switch s := v.(type) {
		case *tracker.IPRecord:
			s.Wm = nil
			for i := range s.Days {
				s.Days[i].First, s.Days[i].Cross = stage.Pos{}, stage.Pos{}
			}
		case *tracker.UserRecord:
			s.Wm = nil
		}
	}
	return tab
}

// compareAlertedKeys checks, rule by rule, the keys alerted through Kafka
// against the reference batch computation of the rule's definition over the
// parsed events, exactly for every rule. distributed_attack watches one
// user across IPs, whose failures arrive from every partition: the
// instance merges its input partitions in event time (processors/exactly/pace.go), and the
// merge waits for a partition as long as it has input left.
func compareAlertedKeys(t *testing.T, alerts []contracts.Alert, events []contracts.Event) {
	t.Helper()
	rules := detect.DefaultRules()
	evs := make([]detect.Event, len(events))
	for i := range events {
		evs[i] = detect.FromSSHLog(&events[i], int64(i))
	}
	want := reference.AlertKeys(evs, &rules)
	got := map[string]map[string]bool{}
	for _, a := range alerts {
		if got[a.Rule] == nil {
			got[a.Rule] = map[string]bool{}
		}
		got[a.Rule][a.Key()] = true
	}
	for _, rule := range contracts.RuleNames {
		var extra, missing []string
		for k := range got[rule] {
			if !want[rule][k] {
				extra = append(extra, k)
			}
		}
		for k := range want[rule] {
			if !got[rule][k] {
				missing = append(missing, k)
			}
		}
		sort.Strings(extra)
		sort.Strings(missing)
		t.Logf("%-20s reference %5d keys, alerted %5d: %d missing, %d extra", rule, len(want[rule]), len(got[rule]), len(missing), len(extra))
		if len(extra) > 0 || len(missing) > 0 {
			t.Errorf("%s: alerted keys differ from the reference: missing %.10v, extra %.10v", rule, missing, extra)
		}
	}
}

// checkScenarios finds each labelled scenario's alert: rule, key and time.
func checkScenarios(t *testing.T, alerts []contracts.Alert, loc *time.Location) {
	t.Helper()
	raw, err := os.ReadFile(testkit.SharedData(t, "ssh-replica/SSH.labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Scenarios []struct {
			Scenario, IP, User, Start string
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	for _, s := range labels.Scenarios {
		start, err := time.ParseInLocation("2006-01-02T15:04:05", s.Start, loc)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range alerts {
			key := a.IP
			if s.Scenario == "distributed_attack" {
				key = a.User
			}
			want := s.IP
			if s.Scenario == "distributed_attack" {
				want = s.User
			}
			if a.Rule == s.Scenario && key == want && !a.LastEventTime.Before(start) && a.FirstEventTime.Before(start.Add(24*time.Hour)) {
				found = true
				t.Logf("scenario %s (%s at %s): alert %s at %s", s.Scenario, want, s.Start, a.ID, a.LastEventTime.In(loc).Format(time.RFC3339))
				break
			}
		}
		if !found {
			t.Errorf("scenario %s (%s%s at %s): no alert", s.Scenario, s.IP, s.User, s.Start)
		}
	}
}

// tableState reads a table topic's latest value per key (a compacted
// topic's meaning), decoded, with wall-clock fields cleared.
func tableState(t *testing.T, r *run, topic string) map[string]interface{} {
	t.Helper()
	out := map[string]interface{}{}
	for _, m := range testkit.ReadAll(t, r.K, topic) {
		if m.Value == nil {
			delete(out, string(m.Key))
			continue
		}
		v, err := tracker.TableCodec{}.Decode(m.Value)
		if err != nil {
			t.Fatalf("table %s key %s: %v", topic, m.Key, err)
		}
		// Compared without the wall-clock stamp of a day and without the
		// alerts kept for re-emission: those are pruned by the group's
		// committed offsets, so they depend on commit timing by design.
		switch s := v.(type) {
		case *tracker.IPRecord:
			s.Recent = nil
		case *tracker.UserRecord:
			s.Recent = nil
		}
		out[string(m.Key)] = v
	}
	return out
}

// alertIDs returns the ids of the alerts in topic.
func alertIDs(t *testing.T, r *run, topic string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range testkit.ReadAll(t, r.K, topic) {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		ids[a.ID] = true
	}
	return ids
}

// tables is the latest value of every key of a run's two tables (IP stage
// and user stage).
func tables(t *testing.T, r *run) map[string]interface{} {
	t.Helper()
	all := tableState(t, r, r.Group+"-table")
	for k, v := range tableState(t, r, r.Group+"-users-table") {
		all[k] = v
	}
	return all
}

// TestCrashRecoveryAndTwoInstances runs the replica three ways over the same
// input: one uninterrupted instance; one `logmon process` killed with
// SIGKILL at three points and restarted; two instances sharing the
// partitions. All three end with the same tables (latest value per key, user
// keys included: the user stage runs in one instance and merges every
// partition in event time), the same alert ids and daily documents equal
// to the batch computation.
func TestCrashRecoveryAndTwoInstances(t *testing.T) {
	base := pipeline.New(t, "it-tracker-crash")
	replica := testkit.Replica(t, base.Dir)
	events := parseFile(t, replica, 2015, base.Loc)
	want := batchDaily(events, base.Loc)
	bin := testkit.BuildLogmon(t)
	// The input itself comes from a killed ingest: `logmon ingest` SIGKILLed
	// at three random points and restarted must still publish each line
	// exactly once (checked here), so every variant below also checks that
	// a tailer crash changes no count and raises no alert.
	base.PublishKilled(t, bin, replica, 3)

	// The same input for every variant; each has its own group and outputs.
	variant := func(name string) *run {
		v := *base
		v.Group = base.Group + "-" + name
		v.Alerts, v.Metrics = v.Group+"-alerts", v.Group+"-metrics"
		v.Dir = filepath.Join(base.Dir, name)
		if _, err := topics.Ensure(testkit.Context(t, time.Minute), v.K, []topics.Spec{{Name: v.Alerts}, {Name: v.Metrics, Partitions: 1, Compacted: true}}, logger); err != nil {
			t.Fatal(err)
		}
		return &v
	}

	// 1. uninterrupted
	u := variant("plain")
	tu := u.Tracker(t, "a")
	startU := time.Now()
	stopU := pipeline.Background(t, "uninterrupted", func(ctx context.Context) error { return tu.Run(ctx) })
	u.WaitCaughtUp(t, 5*time.Minute)
	t.Logf("uninterrupted: the replica processed in %v (caught up, 0.5 s polling)", time.Since(startU).Round(100*time.Millisecond))
	stopU()
	// After the killed ingest: every rule's keys equal the batch
	// computation, and the alert ids those of the uninterrupted ingest.
	alertsU := u.ReadAlerts(t)
	compareAlertedKeys(t, alertsU, events)
	if replicaAlertIDs == nil {
		t.Log("TestReplicaExactDailyMetricsAndScenarios did not run before: alert ids not compared with an uninterrupted ingest")
	} else {
		idsK := map[string]bool{}
		for _, a := range alertsU {
			idsK[a.ID] = true
		}
		var missing, extra int
		for id := range replicaAlertIDs {
			if !idsK[id] {
				missing++
			}
		}
		for id := range idsK {
			if !replicaAlertIDs[id] {
				extra++
			}
		}
		t.Logf("killed ingest: %d alert ids, uninterrupted ingest %d: %d missing, %d extra", len(idsK), len(replicaAlertIDs), missing, extra)
		if missing > 0 || extra > 0 {
			t.Errorf("killed ingest: %d alert ids missing, %d extra against the uninterrupted ingest", missing, extra)
		}
	}

	// 2. SIGKILL three times
	c := variant("killed")
	incidentsOut := c.Group + "-incidents-out"
	args := []string{"process", "-group", c.Group, "-input", c.Input, "-alerts", c.Alerts, "-metrics-topic", c.Metrics,
		"-incidents", incidentsOut, "-data-dir", c.Dir, "-metrics-addr", "", "-report-tz", "Asia/Seoul", "-log-level", "warn"}
	for i, after := range []time.Duration{3 * time.Second, 5 * time.Second, 4 * time.Second} {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: logmon process had already exited by itself (%v): see its log above", i+1, cmd.ProcessState)
		}
		t.Logf("kill %d: SIGKILL after %v", i+1, after)
	}
	if !c.Lag().Busy(context.Background()) {
		t.Fatal("the killed instance had already finished before its last kill: the kills prove nothing")
	}
	restart := time.Now()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.WaitCaughtUp(t, 5*time.Minute)
	t.Logf("after the last kill: restart to caught up in %v", time.Since(restart).Round(100*time.Millisecond))
	// The incident stage ran in the killed process too: once it has
	// applied every alert, its incidents (newest versions) are those of an
	// uninterrupted incident stage over the uninterrupted run's alerts.
	killedIncidents := waitIncidents(t, c, incidentstage.Group(c.Group), incidentsOut)
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	compareIncidents(t, "killed", killedIncidents, runIncidents(t, u, "incidents-plain", 0))

	// 3. two instances
	two := variant("two")
	assigned := make(chan string, 16)
	for _, inst := range []string{"a", "b"} {
		tr := two.Tracker(t, inst)
		pipeline.Background(t, "instance "+inst, func(ctx context.Context) error {
			tr.OnAssign(func(a goka.Assignment) { assigned <- fmt.Sprintf("%s:%v", inst, a) })
			return tr.Run(ctx)
		})
	}
	two.WaitCaughtUp(t, 5*time.Minute)
	close(assigned)
	var seen []string
	for a := range assigned {
		seen = append(seen, a)
	}
	t.Logf("assignments: %v", seen)

	tabU := tables(t, u)
	idsU := alertIDs(t, u, u.Alerts)
	for _, v := range []*run{c, two} {
		tv := tables(t, v)
		if len(tv) != len(tabU) {
			t.Errorf("%s: table has %d keys, uninterrupted %d", v.Group, len(tv), len(tabU))
		}
		differ := 0
		for k, val := range tabU {
			if reflect.DeepEqual(val, tv[k]) {
				continue
			}
			if differ < 3 {
				t.Errorf("%s: key %s: %+v, uninterrupted %+v", v.Group, k, tv[k], val)
			}
			differ++
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d table keys differ from the uninterrupted run", v.Group, differ, len(tabU))
		}
		// Alert ids: exactly the uninterrupted run's (an alert lost with
		// the producer's backlog at a kill is re-emitted when its input is
		// replayed).
		ids := alertIDs(t, v, v.Alerts)
		var extra, missing int
		for id := range ids {
			if !idsU[id] {
				extra++
			}
		}
		for id := range idsU {
			if !ids[id] {
				missing++
			}
		}
		t.Logf("%s: %d alert ids, uninterrupted %d: %d missing, %d extra", v.Group, len(ids), len(idsU), missing, extra)
		if extra > 0 || missing > 0 {
			t.Errorf("%s: %d alert ids not in the uninterrupted run, %d of %d missing", v.Group, extra, missing, len(idsU))
		}
		checkScenarios(t, v.ReadAlerts(t), v.Loc)
		compareDays(t, settle(t, v, want, 3*time.Minute), want)
	}
}
