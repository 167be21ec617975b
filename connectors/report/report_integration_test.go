package report_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/report"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
)

var logger = pipeline.Logger

// source reads the run's metrics-daily and alert topics.
func source(r *pipeline.Run) report.KafkaSource {
	return report.KafkaSource{Kafka: r.K, MetricsTopic: r.Metrics, AlertsTopic: r.Alerts, IncidentsTopic: r.Group + "-incidents"}
}

func sender(t *testing.T, smtp config.SMTP) *mail.Sender {
	t.Helper()
	s, err := mail.New(smtp, logger)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replicaSlice writes the replica's lines dated Dec 10 and Dec 11 to dir and
// returns the file and the number of Dec 11 lines.
func replicaSlice(t *testing.T, dir string) (string, int64) {
	t.Helper()
	in, err := os.Open(testkit.SharedData(t, "ssh-replica/SSH.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "slice.log")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var dec11 int64
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Dec 10 ") && !strings.HasPrefix(line, "Dec 11 ") {
			break // the file is in time order
		}
		if strings.HasPrefix(line, "Dec 11 ") {
			dec11++
		}
		fmt.Fprintln(w, line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path, dec11
}

// TestReplicaDayReport pushes two days of the replica through ingest, the
// tracker group and the metrics-daily emitter, then builds and mails the
// report of 2015-12-11: every value equals that day's final metrics-daily
// document (itself checked against the line count), and the alert summary
// equals the day's alerts on the alert topic.
func TestReplicaDayReport(t *testing.T) {
	smtp := testkit.SMTP(t)
	r := pipeline.New(t, "it-report-replica")
	file, dec11 := replicaSlice(t, r.Dir)

	r.Publish(t, file)
	r.StartTracker(t)
	src := source(r)
	day := "2015-12-11"

	final := func(docs map[string]contracts.DailyMetrics) bool {
		return docs[day].Final && docs["2015-12-10"].Final
	}
	docs := r.Settle(t, 4*time.Minute, func(docs map[string]contracts.DailyMetrics) bool {
		if final(docs) {
			return true
		}
		// Before the day is final the report refuses to build.
		if d, ok := docs[day]; ok && !d.Final {
			if _, err := report.BuildDay(context.Background(), src, day, seoul, time.Now()); !errors.Is(err, report.ErrNotFinal) && !errors.Is(err, report.ErrNoMetrics) {
				t.Errorf("report of a day still filling: err %v, want ErrNotFinal", err)
			}
		}
		return false
	})
	if !final(docs) {
		t.Fatalf("no final metrics-daily for %s: %+v", day, docs)
	}
	doc, err := src.Daily(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	if doc.TotalLogs != dec11 {
		t.Fatalf("metrics-daily total_logs %d, the slice has %d Dec 11 lines", doc.TotalLogs, dec11)
	}
	start := time.Now()
	rep, err := report.BuildDay(context.Background(), src, day, seoul, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report of %s built in %v (%d logs, %d bytes of HTML)", day, time.Since(start).Round(time.Millisecond), doc.TotalLogs, len(rep.HTML))

	checkReport(t, "built", rep.HTML, rep.Text, doc)
	// The alert summary equals the alert topic's alerts of that day.
	var dayAlerts []contracts.Alert
	byRule := map[string]int{}
	for _, a := range r.ReadAlerts(t) {
		if a.LastEventTime.In(seoul).Format(time.DateOnly) == day {
			dayAlerts = append(dayAlerts, a)
			byRule[a.Rule]++
		}
	}
	if len(dayAlerts) == 0 {
		t.Fatal("no alerts on 2015-12-11: the replica has attacks that day")
	}
	if s := fmt.Sprintf(`data-field="alerts_total">%d alerts<`, len(dayAlerts)); !strings.Contains(rep.HTML, s) {
		t.Errorf("report lacks %s", s)
	}
	for rule, n := range byRule {
		if s := fmt.Sprintf(`data-rule="%s">%d<`, rule, n); !strings.Contains(rep.HTML, s) {
			t.Errorf("report lacks %s", s)
		}
	}
	t.Logf("%s: %d logs, %d alerts %v", day, doc.TotalLogs, len(dayAlerts), byRule)

	// Mailed through the real SMTP server, it arrives whole.
	to := testkit.UniqueName("report") + "@example.test"
	if err := sender(t, smtp).Send(context.Background(), rep.Message([]string{to})); err != nil {
		t.Fatal(err)
	}
	got := testkit.WaitMails(t, to, 1, 20*time.Second)
	if len(got) != 1 || got[0].Subject != rep.Subject {
		t.Fatalf("mails to %s: %+v", to, got)
	}
	checkReport(t, "mailed", got[0].HTML, got[0].Text, doc)
}

// checkReport finds every field of doc, and each hour, in the report.
func checkReport(t *testing.T, what, html, text string, doc contracts.DailyMetrics) {
	t.Helper()
	list := func(l []contracts.IPCount) string {
		var p []string
		for _, e := range l {
			p = append(p, fmt.Sprintf("%s (%d)", e.IP, e.Cnt))
		}
		return strings.Join(p, ", ")
	}
	want := map[string]string{"metric_date": doc.MetricDate, "total_logs": fmt.Sprint(doc.TotalLogs), "error_count": fmt.Sprint(doc.ErrorCount),
		"unique_ips": fmt.Sprint(doc.UniqueIPs), "peak_hour": fmt.Sprintf("%02d", doc.PeakHour), "peak_hour_logs": fmt.Sprint(doc.PeakHourLogs),
		"brute_force_ips": fmt.Sprint(doc.BruteForceIPs), "top_ip_list": list(doc.TopIPList), "top_brute_list": list(doc.TopBruteList), "final": "true"}
	for f, v := range want {
		if !strings.Contains(html, fmt.Sprintf(`data-field="%s">%s<`, f, v)) {
			t.Errorf("%s report: %s is not %q", what, f, v)
		}
		if !strings.Contains(text, v) {
			t.Errorf("%s report text: %s %q missing", what, f, v)
		}
	}
	var sum int64
	for h, n := range doc.HourlyLogs {
		sum += n
		if !strings.Contains(html, fmt.Sprintf(`data-hour="%02d">%d<`, h, n)) {
			t.Errorf("%s report: hour %02d is not %d", what, h, n)
		}
	}
	if sum != doc.TotalLogs {
		t.Errorf("hourly_logs add up to %d, total_logs %d", sum, doc.TotalLogs)
	}
}

// TestMissingMetricsRetryThenFailureMail: no metrics-daily document for the
// day: the runner tries, waits the retry delay, tries again, then mails the
// failure with the error to the recipients.
func TestMissingMetricsRetryThenFailureMail(t *testing.T) {
	smtp := testkit.SMTP(t)
	r := pipeline.New(t, "it-report-missing")
	to := testkit.UniqueName("failure") + "@example.test"
	sched, _ := report.ParseSchedule("0 9 * * *", seoul)
	run, err := report.NewRunner(report.Config{Schedule: sched, RetryDelay: 1500 * time.Millisecond, To: []string{to},
		StatePath: filepath.Join(t.TempDir(), "state.json")}, source(r), sender(t, smtp), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, err := run.SendDay(testkit.Context(t, time.Minute), "2015-12-12")
	elapsed := time.Since(start)
	if err != nil || status != "failed" {
		t.Fatalf("status %q, err %v; want failed, nil", status, err)
	}
	if got := testutil.ToFloat64(run.Metrics.Attempts); got != 2 {
		t.Errorf("attempts metric %v, want 2", got)
	}
	if n := testutil.ToFloat64(run.Metrics.Attempts); n != 2 || elapsed < 1500*time.Millisecond {
		t.Errorf("%v attempts in %v; want 2, at least the retry delay apart", n, elapsed)
	}
	got := testkit.WaitMails(t, to, 1, 20*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d mails, want 1 failure mail", len(got))
	}
	m := got[0]
	if m.Subject != "[logmon] SSH daily report 2015-12-12 FAILED" || !strings.Contains(m.Text, "no metrics-daily document for 2015-12-12") ||
		!strings.Contains(m.Text, r.Metrics) || !strings.Contains(m.Text, "after 2 attempts") || !strings.Contains(m.HTML, "no metrics-daily document") {
		t.Errorf("failure mail: %q\n%s", m.Subject, m.Text)
	}

	// A document that turns final during the retry delay: the retry sends
	// the report and no failure mail goes out.
	to2 := testkit.UniqueName("late") + "@example.test"
	run2, err := report.NewRunner(report.Config{Schedule: sched, RetryDelay: 3 * time.Second, To: []string{to2},
		StatePath: filepath.Join(t.TempDir(), "state.json")}, source(r), sender(t, smtp), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second)
		produceDoc(t, r, finalDoc("2015-12-13"))
	}()
	if status, err := run2.SendDay(testkit.Context(t, time.Minute), "2015-12-13"); err != nil || status != "sent" {
		t.Fatalf("status %q, err %v; want sent", status, err)
	}
	got = testkit.WaitMails(t, to2, 1, 20*time.Second)
	if n := testutil.ToFloat64(run2.Metrics.Attempts); len(got) != 1 || !strings.HasPrefix(got[0].Subject, "[logmon] SSH daily report 2015-12-13: 0 incidents, 1234 events") || n != 2 {
		t.Errorf("late document: %v attempts, mails %+v", n, got)
	}
}

func finalDoc(day string) contracts.DailyMetrics {
	d := contracts.DailyMetrics{MetricDate: day, TotalLogs: 1234, UniqueIPs: 5, HourlyLogs: make([]int64, 24), Final: true,
		TopIPList: []contracts.IPCount{}, TopBruteList: []contracts.IPCount{}, CreatedAt: time.Now()}
	d.HourlyLogs[3] = 1234
	d.PeakHour, d.PeakHourLogs = 3, 1234
	return d
}

func produceDoc(t *testing.T, r *pipeline.Run, d contracts.DailyMetrics) {
	prod, err := sarama.NewSyncProducer(r.K.Brokers, kafkaconfig.Sarama("report-test"))
	if err != nil {
		t.Error(err)
		return
	}
	defer prod.Close()
	b, _ := json.Marshal(d)
	if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: r.Metrics, Key: sarama.StringEncoder(d.MetricDate), Value: sarama.ByteEncoder(b)}); err != nil {
		t.Error(err)
	}
}

// fakeClock is a settable clock: After fires when Set passes its deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{now: t, added: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	}
	c.added <- struct{}{}
	return ch
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// waitSleeping returns once the runner waits on the clock again.
func (c *fakeClock) waitSleeping(t *testing.T) {
	t.Helper()
	select {
	case <-c.added:
	case <-time.After(30 * time.Second):
		t.Fatal("the runner never waited on the clock")
	}
}

// TestScheduleFiresOnceAcrossRestart: with a settable clock, a runner
// stopped at 08:59:59 and started again at 09:00:01 sends the day-before
// report exactly once; a third start the same morning sends nothing; a
// runner that stays up across 09:00 the next day sends that day's once.
func TestScheduleFiresOnceAcrossRestart(t *testing.T) {
	smtp := testkit.SMTP(t)
	r := pipeline.New(t, "it-report-schedule")
	produceDoc(t, r, finalDoc("2015-12-10"))
	produceDoc(t, r, finalDoc("2015-12-11"))
	to := testkit.UniqueName("sched") + "@example.test"
	state := filepath.Join(t.TempDir(), "report-state.json")
	sched, _ := report.ParseSchedule("0 9 * * *", seoul)
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04:05", s, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	start := func(clock *fakeClock) (stop func()) {
		run, err := report.NewRunner(report.Config{Schedule: sched, RetryDelay: time.Minute, To: []string{to}, StatePath: state},
			source(r), sender(t, smtp), clock, logger)
		if err != nil {
			t.Fatal(err)
		}
		stop = pipeline.Background(t, "runner", run.Run)
		clock.waitSleeping(t)
		return stop
	}

	clock := newFakeClock(at("2015-12-11 08:59:58"))
	stop := start(clock) // first start ever: nothing owed yet
	clock.Set(at("2015-12-11 08:59:59"))
	time.Sleep(200 * time.Millisecond)
	stop() // the process goes down a second before 09:00
	if n := len(testkit.MailsTo(t, to)); n != 0 {
		t.Fatalf("%d mails before 09:00", n)
	}

	clock = newFakeClock(at("2015-12-11 09:00:01"))
	stop = start(clock) // back after 09:00: the missed report goes out now
	testkit.WaitMails(t, to, 1, 20*time.Second)
	stop()
	clock = newFakeClock(at("2015-12-11 09:00:05"))
	stop = start(clock) // and another restart sends nothing more
	time.Sleep(time.Second)
	stop()
	got := testkit.MailsTo(t, to)
	if len(got) != 1 || !strings.HasPrefix(got[0].Subject, "[logmon] SSH daily report 2015-12-10:") {
		t.Fatalf("after the restart at 09:00:01: %d mails %v, want the 2015-12-10 report once", len(got), subjects(got))
	}
	st, err := report.LoadState(state)
	if err != nil || st.LastDay != "2015-12-10" || st.Status != "sent" {
		t.Errorf("state %+v %v", st, err)
	}

	// Up across the next 09:00: fires once, at 09:00.
	clock = newFakeClock(at("2015-12-12 08:59:59"))
	stop = start(clock)
	clock.Set(at("2015-12-12 09:00:00"))
	testkit.WaitMails(t, to, 2, 20*time.Second)
	clock.waitSleeping(t)
	clock.Set(at("2015-12-12 09:00:30")) // before the runner's next wake-up
	clock.Set(at("2015-12-12 09:01:30"))
	clock.waitSleeping(t)
	stop()
	got = testkit.MailsTo(t, to)
	if len(got) != 2 || !strings.HasPrefix(got[1].Subject, "[logmon] SSH daily report 2015-12-11:") {
		t.Fatalf("after 2015-12-12 09:00: %v, want the reports of 12-10 and 12-11 once each", subjects(got))
	}
}

func subjects(ms []testkit.Mail) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject
	}
	return out
}
