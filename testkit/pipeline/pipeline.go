// Package pipeline runs log_monitor's real pipeline in tests: a file
// through ingest into a test's own ssh-log topic, the tracker group over
// it, and the metrics-daily emitter, all on the real Kafka, with names no
// other test shares. Tests of every later stage (API, Elasticsearch sink,
// mailer, report) start from here instead of copying the set-up.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/daily"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

// Logger is the tests' logger: warnings and errors only.
var Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// Run is one test's topics and group.
type Run struct {
	K                             config.Kafka
	Group, Input, Alerts, Metrics string
	// Loc is the zone of the source files and of metric_date (Asia/Seoul,
	// as the replica needs).
	Loc *time.Location
	// Dir holds the run's local state.
	Dir string
}

// New creates a run's input, alert and metrics topics, named after prefix
// and unique.
func New(t testing.TB, prefix string) *Run {
	t.Helper()
	return NewPartitioned(t, prefix, 0)
}

// NewPartitioned is New for an install of the given partition count (0:
// the default): the input and every topic of the run's group take it.
func NewPartitioned(t testing.TB, prefix string, partitions int) *Run {
	t.Helper()
	k := testkit.Kafka(t)
	k.Partitions = partitions
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{K: k, Loc: loc, Dir: t.TempDir(), Group: testkit.UniqueName(prefix)}
	r.Input, r.Alerts, r.Metrics = r.Group+"-ssh-log", r.Group+"-alerts", r.Group+"-metrics"
	specs := []topics.Spec{{Name: r.Input}, {Name: r.Alerts}, {Name: r.Metrics, Partitions: 1, Compacted: true}}
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), k, specs, Logger); err != nil {
		t.Fatal(err)
	}
	testkit.DeleteTopicsAtEnd(t, k, r.Group)
	return r
}

// Publish sends file (a syslog of year 2015 in Loc) to the run's input with
// the real ingest pipeline, to its end.
func (r *Run) Publish(t testing.TB, file string) {
	t.Helper()
	r.PublishWithin(t, file, 3*time.Minute)
}

// PublishWithin is Publish with its own time limit for the ingest run.
func (r *Run) PublishWithin(t testing.TB, file string, limit time.Duration) {
	t.Helper()
	p, err := ingest.New(ingest.Config{Kafka: r.K, Topic: r.Input, Year: 2015, Loc: r.Loc, Once: true,
		ID: testkit.UniqueName(r.Group + "-ingest"), Tail: tail.Config{Globs: []string{file}, FromStart: true}}, nil, Logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(testkit.Context(t, limit)); err != nil {
		t.Fatal(err)
	}
}

// PublishLines writes lines to the file name in Dir and publishes it as
// Publish does.
func (r *Run) PublishLines(t testing.TB, name, lines string) {
	t.Helper()
	file := filepath.Join(r.Dir, name)
	if err := os.WriteFile(file, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Publish(t, file)
}

// ReadAlerts returns every alert on the run's alert topic so far, in
// partition and offset order, replays included.
func (r *Run) ReadAlerts(t testing.TB) []contracts.Alert {
	t.Helper()
	var out []contracts.Alert
	for _, m := range testkit.ReadAll(t, r.K, r.Alerts) {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatalf("alert %s: %v", m.Value, err)
		}
		out = append(out, a)
	}
	return out
}

// Tracker returns an instance of the run's group (default rules), its
// topics created; instance names its local storage.
func (r *Run) Tracker(t testing.TB, instance string) *tracker.Tracker {
	t.Helper()
	tr := tracker.New(tracker.Config{Kafka: r.K, Group: r.Group, Input: r.Input, Alerts: r.Alerts,
		Rules: detect.DefaultRules(), ReportLoc: r.Loc, StorageDir: filepath.Join(r.Dir, "storage-"+instance)}, nil, Logger)
	if err := tr.EnsureTopics(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	return tr
}

// StartTracker runs one instance of the group until the test ends.
func (r *Run) StartTracker(t testing.TB) {
	t.Helper()
	tr := r.Tracker(t, "a")
	Background(t, "tracker", func(ctx context.Context) error { return tr.Run(ctx) })
}

// Lag returns the run's group, only to read its lag.
func (r *Run) Lag() *tracker.Tracker {
	return tracker.New(tracker.Config{Kafka: r.K, Group: r.Group, Input: r.Input, Alerts: r.Alerts}, nil, Logger)
}

// WaitCaughtUp fails the test unless the group has processed everything
// within limit.
func (r *Run) WaitCaughtUp(t testing.TB, limit time.Duration) {
	t.Helper()
	if err := r.Lag().WaitCaughtUp(testkit.Context(t, limit)); err != nil {
		t.Fatalf("group %s not caught up in %v: %v", r.Group, limit, err)
	}
}

// Settle runs a day view and the metrics emitter (to the run's metrics
// topic) until done accepts the documents or limit passes; it returns the
// last documents.
func (r *Run) Settle(t testing.TB, limit time.Duration, done func(map[string]contracts.DailyMetrics) bool) map[string]contracts.DailyMetrics {
	t.Helper()
	view, stop := r.DayView(t)
	defer stop()
	em := r.Emitter(t, view)
	if err := view.WaitReady(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	return TickUntil(t, em, limit, done)
}

// DayView runs a day view of the run's group (the per-day aggregates the
// emitter reads) until the test ends or stop is called; it does not wait
// for the view to be ready.
func (r *Run) DayView(t testing.TB) (view *views.Tracker, stop func()) {
	t.Helper()
	view, err := views.NewDayView(r.K, r.Group, Logger)
	if err != nil {
		t.Fatal(err)
	}
	return view, Background(t, "day view", view.Run)
}

// Emitter returns a metrics-daily emitter over src to the run's metrics
// topic, as Settle uses it: a tick at most every second, days closing after
// 3 s idle once the group has no input left.
func (r *Run) Emitter(t testing.TB, src daily.Source) *daily.Emitter {
	t.Helper()
	em, err := daily.New(daily.Config{Kafka: r.K, Topic: r.Metrics, Loc: r.Loc, Every: time.Second, Idle: 3 * time.Second,
		Lag: func() int64 { return r.Lag().Backlog(context.Background()) }}, src, Logger)
	if err != nil {
		t.Fatal(err)
	}
	return em
}

// TickUntil ticks em every second until done accepts its documents or
// limit passes; it returns the last documents.
func TickUntil(t testing.TB, em *daily.Emitter, limit time.Duration, done func(map[string]contracts.DailyMetrics) bool) map[string]contracts.DailyMetrics {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if err := em.Tick(); err != nil {
			t.Fatal(err)
		}
		docs := em.Documents()
		if done(docs) || time.Now().After(deadline) {
			return docs
		}
		time.Sleep(time.Second)
	}
}

// AllFinal is a Settle condition: n days, every document final.
func AllFinal(n int) func(map[string]contracts.DailyMetrics) bool {
	return func(docs map[string]contracts.DailyMetrics) bool {
		if len(docs) < n {
			return false
		}
		for _, d := range docs {
			if !d.Final {
				return false
			}
		}
		return true
	}
}

// Background runs f until the test ends or stop is called; an error other
// than cancellation fails the test.
func Background(t testing.TB, what string, f func(context.Context) error) (stop func()) {
	return background(t, what, 0, f)
}

// BackgroundStopWithin is Background that also fails the test when f has
// not returned within limit of its context's end; stop then returns
// without waiting longer.
func BackgroundStopWithin(t testing.TB, what string, limit time.Duration, f func(context.Context) error) (stop func()) {
	return background(t, what, limit, f)
}

// background runs f as Background does; a limit above zero bounds the wait
// for f to return after cancellation.
func background(t testing.TB, what string, limit time.Duration, f func(context.Context) error) (stop func()) {
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
		var timeout <-chan time.Time
		if limit > 0 {
			timeout = time.After(limit)
		}
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", what, err)
			}
		case <-timeout:
			t.Errorf("%s: did not stop within %v of its context's end", what, limit)
		}
	}
	t.Cleanup(stop)
	return stop
}
