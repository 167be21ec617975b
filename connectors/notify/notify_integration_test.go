package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
)

var logger = pipeline.Logger

// attackLines writes n failed logins of user from ip, one every step from
// start (syslog lines like the replica's, host LabSZ).
func attackLines(b *strings.Builder, ip, user string, start time.Time, n int, step time.Duration) {
	for i := range n {
		ts := start.Add(time.Duration(i) * step)
		fmt.Fprintf(b, "%s LabSZ sshd[%d]: Failed password for %s from %s port %d ssh2\n",
			ts.Format(time.Stamp), 20000+i, user, ip, 40000+i)
	}
}

// waitAlerts polls the run's alert topic until it holds n distinct alerts
// (by id) or d passes.
func waitAlerts(t *testing.T, p *pipeline.Run, n int, d time.Duration) map[string]contracts.Alert {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := map[string]contracts.Alert{}
		for _, a := range p.ReadAlerts(t) {
			got[a.ID] = a
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Second)
	}
}

func recipients(t *testing.T) (to []string, addrs []string) {
	id := testkit.UniqueName("rcpt")
	a, b := "oncall-"+id+"@example.test", "sec-"+id+"@example.test"
	// Odd spacing and an invalid entry, as an operator might write it.
	list := config.SplitList("  " + a + " ,  ;not an address@@, " + b + "  ")
	to, err := mail.ParseRecipients(list)
	if !errors.Is(err, mail.ErrInvalidRecipients) {
		t.Fatalf("invalid recipient not reported: %v", err)
	}
	return to, []string{a, b}
}

func newNotifier(t *testing.T, p *pipeline.Run, smtp config.SMTP, group string, to []string, digestAfter int, window time.Duration, ledger string, m *notify.Metrics) *notify.Notifier {
	t.Helper()
	s, err := mail.New(smtp, logger)
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(notify.Config{Kafka: p.K, Topic: p.Alerts, Group: group, To: to,
		DigestAfter: digestAfter, DigestWindow: window, LedgerPath: ledger,
		Backoff: 200 * time.Millisecond, MaxBackoff: time.Second,
		Links: notify.Links{API: "http://api.example.test", Kibana: "http://kibana.example.test:5601"}, Loc: p.Loc}, s, m, logger)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAttackMailsAndDigest: failed logins pushed through ingest and the real
// tracker group raise alerts on ssh-alerts; the mailer sends exactly one
// mail per alert (recipients, subject, facts, links) for a lone attacker,
// and one digest when eight IPs attack at once.
func TestAttackMailsAndDigest(t *testing.T) {
	p := pipeline.New(t, "it-notify-attack")
	p.StartTracker(t)
	to, addrs := recipients(t)
	m := notify.NewMetrics(nil)
	// The digest gathers what arrives within its window after the first
	// alert: 10 s, the default. With 4 s, a loaded CI machine spread the
	// eight alerts of phase 2 over more than the window twice (6 in the
	// digest, 2 alone). Likely cause, not proven: phase 2 reaches
	// partitions that saw no event yet, and a partition's first event waits
	// for the IP stage's restore (processors/exactly/window.go).
	const window = 10 * time.Second
	n := newNotifier(t, p, testkit.SMTP(t), p.Group+"-notify", to, 5, window, filepath.Join(p.Dir, "ledger"), m)
	pipeline.Background(t, "notify", n.Run)

	// Phase 1: one attacker, 10 failed logins in 90 s: one brute_force alert.
	start := time.Date(2015, 12, 10, 9, 0, 0, 0, p.Loc)
	var b strings.Builder
	attackLines(&b, "203.0.113.7", "alice", start, 10, 10*time.Second)
	p.PublishLines(t, "phase1.log", b.String())
	alerts := waitAlerts(t, p, 1, 90*time.Second)
	if len(alerts) != 1 {
		t.Fatalf("phase 1: %d alerts on the topic, want 1: %v", len(alerts), alerts)
	}
	var a contracts.Alert
	for _, x := range alerts {
		a = x
	}
	if a.Rule != contracts.RuleBruteForce || a.IP != "203.0.113.7" || a.Count != 10 {
		t.Fatalf("phase 1 alert: %+v", a)
	}
	for _, addr := range addrs {
		testkit.WaitMails(t, addr, 1, 60*time.Second)
	}
	time.Sleep(2 * time.Second) // nothing else may follow
	for _, addr := range addrs {
		mails := testkit.MailsTo(t, addr)
		if len(mails) != 1 {
			t.Fatalf("phase 1, %s: %d mails, want 1", addr, len(mails))
		}
		got := mails[0]
		if want := "[logmon] HIGH brute_force from 203.0.113.7"; got.Subject != want {
			t.Errorf("subject %q, want %q", got.Subject, want)
		}
		sort.Strings(got.To)
		wantTo := append([]string(nil), addrs...)
		sort.Strings(wantTo)
		if fmt.Sprint(got.To) != fmt.Sprint(wantTo) {
			t.Errorf("to %v, want %v", got.To, wantTo)
		}
		if !regexp.MustCompile(`Count:\s+10\s`).MatchString(got.Text) {
			t.Errorf("plain part lacks the count 10:\n%s", got.Text)
		}
		for _, fact := range []string{"brute_force", "203.0.113.7", "LabSZ", "alice", a.ID,
			"2015-12-10 09:00:00 KST", "2015-12-10 09:01:30 KST", "http://api.example.test/v1/ips/203.0.113.7"} {
			if !strings.Contains(got.Text, fact) {
				t.Errorf("plain part lacks %q:\n%s", fact, got.Text)
			}
		}
		for _, fact := range []string{`href="http://api.example.test/v1/ips/203.0.113.7"`, `href="http://kibana.example.test:5601/app/discover#/?_g=`, "alice", a.ID} {
			if !strings.Contains(got.HTML, fact) {
				t.Errorf("HTML part lacks %q:\n%s", fact, got.HTML)
			}
		}
	}

	// Phase 2: eight IPs attack at once (an hour later): one digest.
	b.Reset()
	start2 := start.Add(time.Hour)
	var ips []string
	for i := range 8 {
		ip := fmt.Sprintf("198.51.100.%d", 10+i)
		ips = append(ips, ip)
		attackLines(&b, ip, fmt.Sprintf("bob%d", i), start2.Add(time.Duration(i)*time.Second), 10, 5*time.Second)
	}
	p.PublishLines(t, "phase2.log", b.String())
	alerts = waitAlerts(t, p, 9, 90*time.Second)
	if len(alerts) != 9 {
		t.Fatalf("phase 2: %d alerts on the topic, want 9", len(alerts))
	}
	for _, addr := range addrs {
		testkit.WaitMails(t, addr, 2, 60*time.Second)
	}
	time.Sleep(window + 2*time.Second) // longer than the digest window: nothing else may follow
	for _, addr := range addrs {
		mails := testkit.MailsTo(t, addr)
		if len(mails) != 2 {
			for _, x := range mails {
				t.Logf("mail: %s", x.Subject)
			}
			t.Fatalf("phase 2, %s: %d mails in all, want 2 (one alert, one digest)", addr, len(mails))
		}
		d := mails[1]
		if want := "[logmon] digest: 8 alerts from 8 sources (8 high)"; d.Subject != want {
			t.Errorf("digest subject %q, want %q", d.Subject, want)
		}
		for id, x := range alerts {
			if x.IP == "203.0.113.7" {
				continue
			}
			if !strings.Contains(d.Text, id) || !strings.Contains(d.HTML, x.IP) {
				t.Errorf("digest lacks alert %s (%s)", id, x.IP)
			}
		}
		for _, ip := range ips {
			if !strings.Contains(d.Text, ip) {
				t.Errorf("digest lacks %s", ip)
			}
		}
	}
	if got := testutil.ToFloat64(m.Sent.WithLabelValues("alert")); got != 1 {
		t.Errorf("mails_sent{alert} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Sent.WithLabelValues("digest")); got != 1 {
		t.Errorf("mails_sent{digest} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Alerts); got != 9 {
		t.Errorf("alerts_mailed = %v, want 9", got)
	}
}

// produceAlerts writes alerts (JSON, key the IP) to topic with the
// project's producer, as the processors do.
func produceAlerts(t *testing.T, k config.Kafka, topic string, alerts []contracts.Alert) {
	t.Helper()
	prod, err := sarama.NewSyncProducer(k.Brokers, kafkaconfig.Sarama("notify-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, a := range alerts {
		v, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(a.Key()), Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
}

func syntheticAlerts(prefix string, n int) []contracts.Alert {
	base := time.Date(2015, 12, 11, 3, 0, 0, 0, time.UTC)
	out := make([]contracts.Alert, n)
	for i := range out {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		out[i] = contracts.Alert{ID: fmt.Sprintf("%s-%03d", prefix, i), Rule: contracts.RuleBruteForce, Severity: "high",
			IP: ip, Hosts: []string{"LabSZ"}, Users: []string{"root"}, Count: 10, WindowSeconds: 300,
			WindowStart: base, FirstEventTime: base, LastEventTime: base.Add(time.Minute), EpisodeStart: base.Add(time.Minute),
			Timestamp: base.Add(time.Minute), Message: "brute force from " + ip}
	}
	return out
}

// TestSMTPDownThenUp: Mailpit is stopped while alerts arrive; the mailer
// retries, is restarted once (a crash while the server is down), and when
// Mailpit is back every alert is mailed exactly once. Alerts re-emitted
// with the same ids afterwards (as the processors do after a crash) are not
// mailed again, nor is anything re-sent by a restart with the same ledger.
func TestSMTPDownThenUp(t *testing.T) {
	st := testkit.Stack(t)
	smtp := testkit.SMTP(t)
	p := pipeline.New(t, "it-notify-down")
	to, addrs := recipients(t)
	ledger := filepath.Join(p.Dir, "ledger")
	group := p.Group + "-notify"
	ctx := testkit.Context(t, 5*time.Minute)

	t.Cleanup(func() { // whatever happens, leave Mailpit running
		if err := st.StartMailpit(); err != nil {
			t.Errorf("restart mailpit: %v", err)
		}
		if err := st.WaitMailpit(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if err := st.StopMailpit(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := syntheticAlerts(testkit.UniqueName("down"), 12)
	produceAlerts(t, p.K, p.Alerts, alerts[:6])

	m1 := notify.NewMetrics(nil)
	stop1 := pipeline.Background(t, "notify 1", newNotifier(t, p, smtp, group, to, 0, 500*time.Millisecond, ledger, m1).Run)
	waitFor(t, "send failures while SMTP is down", 30*time.Second, func() bool { return testutil.ToFloat64(m1.Failures) >= 3 })
	if got := testutil.ToFloat64(m1.Pending); got != 6 {
		t.Errorf("pending = %v while SMTP is down, want 6", got)
	}
	stop1() // a restart while the server is down: nothing was confirmed

	produceAlerts(t, p.K, p.Alerts, alerts[6:])
	m2 := notify.NewMetrics(nil)
	stop2 := pipeline.Background(t, "notify 2", newNotifier(t, p, smtp, group, to, 0, 500*time.Millisecond, ledger, m2).Run)
	waitFor(t, "send failures after the restart", 30*time.Second, func() bool { return testutil.ToFloat64(m2.Failures) >= 2 })
	downFor := time.Now()
	if err := st.StartMailpit(); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitMailpit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, addr := range addrs {
		testkit.WaitMails(t, addr, len(alerts), 60*time.Second)
	}
	t.Logf("all mails delivered %v after Mailpit came back; %v failures, %v retries",
		time.Since(downFor).Round(100*time.Millisecond), testutil.ToFloat64(m2.Failures), testutil.ToFloat64(m2.Retries))
	waitFor(t, "pending back to 0", 10*time.Second, func() bool { return testutil.ToFloat64(m2.Pending) == 0 })
	stop2()

	// The processors re-emit three alerts; a third instance starts on the
	// same group and ledger.
	produceAlerts(t, p.K, p.Alerts, alerts[3:6])
	m3 := notify.NewMetrics(nil)
	stop3 := pipeline.Background(t, "notify 3", newNotifier(t, p, smtp, group, to, 0, 500*time.Millisecond, ledger, m3).Run)
	waitFor(t, "re-emitted alerts seen", 30*time.Second, func() bool {
		return testutil.ToFloat64(m3.Skipped.WithLabelValues("duplicate")) >= 3
	})
	stop3()
	if got := testutil.ToFloat64(m3.Sent.WithLabelValues("alert")); got != 0 {
		t.Errorf("restarted mailer sent %v mails, want 0", got)
	}

	for _, addr := range addrs {
		mails := testkit.MailsTo(t, addr)
		count := mailedPerAlert(mails, alerts)
		for _, a := range alerts {
			if count[a.ID] != 1 {
				t.Errorf("%s: alert %s mailed %d times, want 1", addr, a.ID, count[a.ID])
			}
		}
		if len(mails) != len(alerts) {
			t.Errorf("%s: %d mails, want %d", addr, len(mails), len(alerts))
		}
	}
}

// mailedPerAlert counts, per alert id, the mails whose plain part names it.
func mailedPerAlert(mails []testkit.Mail, alerts []contracts.Alert) map[string]int {
	count := map[string]int{}
	for _, m := range mails {
		for _, a := range alerts {
			if strings.Contains(m.Text, a.ID) {
				count[a.ID]++
			}
		}
	}
	return count
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKilledMailerResendsAtMostInFlight runs `logmon notify` as a process,
// kills it with SIGKILL while it mails 400 alerts, and starts it again:
// every alert is mailed, and at most the one mail in flight at the kill is
// mailed twice.
func TestKilledMailerResendsAtMostInFlight(t *testing.T) {
	smtp := testkit.SMTP(t)
	p := pipeline.New(t, "it-notify-kill")
	bin := testkit.BuildLogmon(t)
	to := testkit.UniqueName("kill") + "@example.test"
	alerts := syntheticAlerts(testkit.UniqueName("kill"), 400)
	produceAlerts(t, p.K, p.Alerts, alerts)
	start := func() *exec.Cmd {
		// One mail per alert (the SSH rules are mailed per incident by
		// default; TestKilledIncidentMailer kills that path).
		cmd := exec.Command(bin, "notify", "-topic", p.Alerts, "-group", p.Group+"-notify", "-data-dir", p.Dir, "-incident-mail=false",
			"-to", to, "-daily-report=false", "-digest-after", "0", "-digest-window", "10ms", "-metrics-addr", "", "-log-level", "warn",
			"-smtp-host", smtp.Host, "-smtp-port", fmt.Sprint(smtp.Port))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	waitFor(t, "the first mails", time.Minute, func() bool { return testkit.MailCount(t, to) >= 40 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := testkit.MailCount(t, to)
	if killedAt >= len(alerts) {
		t.Fatalf("every mail was out before the kill (%d): the test did not kill a busy mailer", killedAt)
	}
	cmd = start()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testkit.WaitMails(t, to, len(alerts), 2*time.Minute)
	time.Sleep(2 * time.Second) // anything re-sent late would show now
	mails := testkit.MailsTo(t, to)
	count := mailedPerAlert(mails, alerts)
	twice := 0
	for _, a := range alerts {
		switch c := count[a.ID]; {
		case c == 0:
			t.Errorf("alert %s never mailed", a.ID)
		case c > 2:
			t.Errorf("alert %s mailed %d times", a.ID, c)
		case c == 2:
			twice++
		}
	}
	if twice > 1 {
		t.Errorf("%d alerts mailed twice; at most the one in flight at the kill may be", twice)
	}
	t.Logf("killed after %d mails; %d mails in all for %d alerts, %d sent twice", killedAt, len(mails), len(alerts), twice)
}
