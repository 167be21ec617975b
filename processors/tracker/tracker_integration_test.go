package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/processors/daily"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// run is one test's set of topics and group, so tests never share state.
type run struct {
	k                             config.Kafka
	input, alerts, metrics, group string
	loc                           *time.Location
	dir                           string
}

func newRun(t *testing.T, prefix string) *run {
	t.Helper()
	k := testkit.Kafka(t)
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	r := &run{k: k, loc: loc, dir: t.TempDir(), group: testkit.UniqueName(prefix)}
	r.input, r.alerts, r.metrics = r.group+"-ssh-log", r.group+"-alerts", r.group+"-metrics"
	specs := []topics.Spec{{Name: r.input, Partitions: 3}, {Name: r.alerts, Partitions: 3}, {Name: r.metrics, Partitions: 1, Compacted: true}}
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), k, specs, logger); err != nil {
		t.Fatal(err)
	}
	return r
}

// publish sends file to the run's input topic with the real ingest pipeline.
func (r *run) publish(t *testing.T, file string) {
	t.Helper()
	p, err := ingest.New(ingest.Config{Kafka: r.k, Topic: r.input, Year: 2015, Loc: r.loc, Once: true,
		Tail: tail.Config{Globs: []string{file}, RegistryPath: filepath.Join(r.dir, "ingest.json"), FromStart: true}}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(testkit.Context(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// tracker returns an instance of the run's group, its topics created.
func (r *run) tracker(t *testing.T, instance string) *tracker.Tracker {
	t.Helper()
	tr := tracker.New(tracker.Config{Kafka: r.k, Group: r.group, Input: r.input, Alerts: r.alerts,
		Rules: detect.DefaultRules(), ReportLoc: r.loc, StorageDir: filepath.Join(r.dir, "storage-"+instance)}, nil, logger)
	if err := tr.EnsureTopics(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	return tr
}

// background runs f until the test ends (or stop is called).
func background(t *testing.T, what string, f func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", what, err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// settle runs a view and the metrics emitter until every expected day has a
// final document equal to want, or the time is up; it returns the documents.
func (r *run) settle(t *testing.T, want map[string]tracker.DailyMetrics, limit time.Duration) map[string]tracker.DailyMetrics {
	t.Helper()
	view, err := views.NewTracker(r.k, r.group, filepath.Join(r.dir, testkit.UniqueName("view")), logger)
	if err != nil {
		t.Fatal(err)
	}
	stop := background(t, "view", view.Run)
	defer stop()
	em, err := daily.New(daily.Config{Kafka: r.k, Topic: r.metrics, Loc: r.loc, Every: time.Second, Idle: 3 * time.Second,
		Busy: func() bool { return r.lag().Busy(context.Background()) }}, view, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := view.WaitReady(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	var docs map[string]tracker.DailyMetrics
	for {
		if err := em.Tick(); err != nil {
			t.Fatal(err)
		}
		docs = em.Documents()
		if allFinalAndEqual(docs, want) || time.Now().After(deadline) {
			return docs
		}
		time.Sleep(time.Second)
	}
}

func allFinalAndEqual(docs, want map[string]tracker.DailyMetrics) bool {
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
func diff(got, want tracker.DailyMetrics) string {
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	got.Final, want.Final = false, false
	if reflect.DeepEqual(got, want) {
		return ""
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return fmt.Sprintf("got  %s\nwant %s", g, w)
}

func compareDays(t *testing.T, docs, want map[string]tracker.DailyMetrics) {
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
	r := newRun(t, "it-tracker-replica")
	replica := testkit.Replica(t, r.dir)
	events := parseFile(t, replica, 2015, r.loc)
	want := batchDaily(events, r.loc)
	r.publish(t, replica)

	start := time.Now()
	tr := r.tracker(t, "a")
	background(t, "tracker", func(ctx context.Context) error { return tr.Run(ctx) })
	docs := r.settle(t, want, 5*time.Minute)
	t.Logf("replica processed and settled in %v", time.Since(start).Round(time.Second))
	compareDays(t, docs, want)

	alerts := readAlerts(t, r)
	checkScenarios(t, alerts, r.loc)
}

func readAlerts(t *testing.T, r *run) []detect.Alert {
	t.Helper()
	var out []detect.Alert
	for _, m := range testkit.ReadAll(t, r.k, r.alerts) {
		var a detect.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("alert %s: %v", m.Value, err)
		}
		out = append(out, a)
	}
	return out
}

// checkScenarios finds each labelled scenario's alert: rule, key and time.
func checkScenarios(t *testing.T, alerts []detect.Alert, loc *time.Location) {
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
	for _, m := range testkit.ReadAll(t, r.k, topic) {
		if m.Value == nil {
			delete(out, string(m.Key))
			continue
		}
		v, err := tracker.TableCodec{}.Decode(m.Value)
		if err != nil {
			t.Fatalf("table %s key %s: %v", topic, m.Key, err)
		}
		if d, ok := v.(*tracker.DayState); ok {
			d.Updated = 0
		}
		out[string(m.Key)] = v
	}
	return out
}

// alertIDs returns the ids of the alerts in topic: those of the per-IP
// rules, and with users also those keyed by user (distributed_attack).
func alertIDs(t *testing.T, r *run, topic string, users bool) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range testkit.ReadAll(t, r.k, topic) {
		var a detect.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.IP != "" || users {
			ids[a.ID] = true
		}
	}
	return ids
}

// lag returns the run's group, only to read its lag (the tracker's own
// Lag, Busy and WaitCaughtUp; nothing is started).
func (r *run) lag() *tracker.Tracker {
	return tracker.New(tracker.Config{Kafka: r.k, Group: r.group, Input: r.input, Alerts: r.alerts}, nil, logger)
}

// TestCrashRecoveryAndTwoInstances runs the replica three ways over the same
// input: one uninterrupted instance; one `logmon process` killed with
// SIGKILL at three points and restarted; two instances sharing the
// partitions. All three end with the same table (latest value per key), the
// same alert ids and daily documents equal to the batch computation.
func TestCrashRecoveryAndTwoInstances(t *testing.T) {
	base := newRun(t, "it-tracker-crash")
	replica := testkit.Replica(t, base.dir)
	want := batchDaily(parseFile(t, replica, 2015, base.loc), base.loc)
	base.publish(t, replica)
	bin := testkit.BuildLogmon(t)

	// The same input for every variant; each has its own group and outputs.
	variant := func(name string) *run {
		v := *base
		v.group = base.group + "-" + name
		v.alerts, v.metrics = v.group+"-alerts", v.group+"-metrics"
		v.dir = filepath.Join(base.dir, name)
		if _, err := topics.Ensure(testkit.Context(t, time.Minute), v.k, []topics.Spec{{Name: v.alerts, Partitions: 3}, {Name: v.metrics, Partitions: 1, Compacted: true}}, logger); err != nil {
			t.Fatal(err)
		}
		return &v
	}

	// 1. uninterrupted
	u := variant("plain")
	tu := u.tracker(t, "a")
	startU := time.Now()
	stopU := background(t, "uninterrupted", func(ctx context.Context) error { return tu.Run(ctx) })
	waitCaughtUp(t, u, 5*time.Minute)
	t.Logf("uninterrupted: the replica processed in %v (caught up, 0.5 s polling)", time.Since(startU).Round(100*time.Millisecond))
	stopU()

	// 2. SIGKILL three times
	c := variant("killed")
	args := []string{"process", "-group", c.group, "-input", c.input, "-alerts", c.alerts, "-metrics-topic", c.metrics,
		"-data-dir", c.dir, "-metrics-addr", "", "-report-tz", "Asia/Seoul", "-log-level", "warn"}
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
	if !c.lag().Busy(context.Background()) {
		t.Fatal("the killed instance had already finished before its last kill: the kills prove nothing")
	}
	restart := time.Now()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, c, 5*time.Minute)
	t.Logf("after the last kill: restart to caught up in %v", time.Since(restart).Round(100*time.Millisecond))
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()

	// 3. two instances
	two := variant("two")
	assigned := make(chan string, 16)
	for _, inst := range []string{"a", "b"} {
		tr := two.tracker(t, inst)
		background(t, "instance "+inst, func(ctx context.Context) error {
			return tr.Run(ctx, goka.WithRebalanceCallback(func(a goka.Assignment) {
				assigned <- fmt.Sprintf("%s:%v", inst, a)
			}))
		})
	}
	waitCaughtUp(t, two, 5*time.Minute)
	close(assigned)
	var seen []string
	for a := range assigned {
		seen = append(seen, a)
	}
	t.Logf("assignments: %v", seen)

	tabU := tableState(t, u, u.group+"-table")
	idsU := alertIDs(t, u, u.alerts, false)
	for _, v := range []*run{c, two} {
		tv := tableState(t, v, v.group+"-table")
		if len(tv) != len(tabU) {
			t.Errorf("%s: table has %d keys, uninterrupted %d", v.group, len(tv), len(tabU))
		}
		differ, userDiffer := 0, 0
		for k, val := range tabU {
			if reflect.DeepEqual(val, tv[k]) {
				continue
			}
			if _, isUser := val.(*tracker.UserRecord); isUser {
				// A user's events come from every partition, in an arrival
				// order that differs between runs; see docs/processors.md.
				userDiffer++
				continue
			}
			if differ < 3 {
				t.Errorf("%s: key %s: %+v, uninterrupted %+v", v.group, k, tv[k], val)
			}
			differ++
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d IP and day keys differ from the uninterrupted run", v.group, differ, len(tabU))
		}
		t.Logf("%s: %d user keys differ from the uninterrupted run (arrival order across partitions)", v.group, userDiffer)
		// Alert ids: none may be new; a few may be missing after SIGKILL
		// (an alert lost with the producer's backlog whose re-emission
		// record was already pruned; docs/processors.md, known limits).
		ids := alertIDs(t, v, v.alerts, false)
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
		t.Logf("%s: %d alert ids of IP rules, uninterrupted %d: %d missing, %d extra", v.group, len(ids), len(idsU), missing, extra)
		if extra > 0 || missing*100 > len(idsU) {
			t.Errorf("%s: %d alert ids not in the uninterrupted run, %d of %d missing (over 1%%)", v.group, extra, missing, len(idsU))
		}
		checkScenarios(t, readAlerts(t, v), v.loc)
		compareDays(t, v.settle(t, want, 3*time.Minute), want)
	}
}

func waitCaughtUp(t *testing.T, r *run, limit time.Duration) {
	t.Helper()
	if err := r.lag().WaitCaughtUp(testkit.Context(t, limit)); err != nil {
		t.Fatalf("group %s not caught up in %v: %v", r.group, limit, err)
	}
}
