package notify_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/topics"
)

// TestIncidentMailThreads runs the mailer with incident mail on, on real
// Kafka and Mailpit:
//   - the six-alert burst of issue 17 (six versions of one incident within
//     a second) is one mail after the settle; the SSH alerts themselves
//     are not mailed, a host alert still is;
//   - the incident turning critical is one reply in its thread
//     (In-Reply-To and References name the first mail's Message-ID);
//   - a replay of old incidents is one backfill summary, no mail each;
//   - a restarted mailer sends nothing again.
func TestIncidentMailThreads(t *testing.T) {
	p := pipeline.New(t, "it-notify-incidents")
	smtp := testkit.SMTP(t)
	incTopic := p.Group + "-incidents"
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), p.K, []topics.Spec{{Name: incTopic}}, logger); err != nil {
		t.Fatal(err)
	}
	to := testkit.UniqueName("oncall") + "@example.test"
	ledger := filepath.Join(t.TempDir(), "ledger.log")
	start := func() (stop func()) {
		s, err := mail.New(smtp, logger)
		if err != nil {
			t.Fatal(err)
		}
		n, err := notify.New(notify.Config{Kafka: p.K, Topic: p.Alerts, Group: p.Group + "-notify", To: []string{to},
			DigestAfter: 5, DigestWindow: 500 * time.Millisecond, LedgerPath: ledger, Loc: p.Loc,
			Incidents: &notify.IncidentConfig{Topic: incTopic, Group: p.Group + "-notify-incidents",
				Settings: contracts.IncidentSettings{Gap: time.Hour, Settle: 2 * time.Second, BackfillAfter: time.Hour}}}, s, nil, logger)
		if err != nil {
			t.Fatal(err)
		}
		return pipeline.Background(t, "notify", n.Run)
	}
	stop := start()

	now := time.Now().UTC().Truncate(time.Second)
	base := contracts.Incident{ID: "inc-" + strings.TrimPrefix(p.Group, "it-notify-incidents-"), Key: "203.0.113.50", KeyType: contracts.KeyTypeIP,
		FirstEventTime: now.Add(-2 * time.Minute), OpenedAt: now.Add(-2 * time.Minute), UsersTried: []string{"root"}, Hosts: []string{"web-1"}}
	version := func(v int64, severity string, rules ...string) contracts.Incident {
		inc := base
		inc.Version, inc.Severity, inc.Rules, inc.AlertCount = v, severity, rules, int(v)
		inc.Status = contracts.IncidentUpdated
		if v == 1 {
			inc.Status = contracts.IncidentOpen
		}
		inc.LastEventTime = now.Add(-2*time.Minute + time.Duration(v)*20*time.Second)
		inc.FailedAttempts = 10 * v
		return inc
	}
	// The burst: root_attempts 10, brute_force 21, ... six versions.
	var burst []contracts.Incident
	for v := int64(1); v <= 6; v++ {
		burst = append(burst, version(v, map[bool]string{true: "medium", false: "high"}[v < 3], "brute_force", "root_attempts"))
	}
	sendIncidents(t, p.K, incTopic, burst...)
	// An SSH alert (mailed through its incident) and a host alert (mailed).
	sendAlerts(t, p.K, p.Alerts,
		contracts.Alert{ID: "ssh-" + base.ID, Rule: contracts.RuleBruteForce, Severity: "high", IP: base.Key, Timestamp: now, LastEventTime: now},
		contracts.Alert{ID: "host-" + base.ID, Rule: contracts.RuleHostDiskFull, Severity: "high", Host: "web-1", Timestamp: now, LastEventTime: now, Value: 0.95, Threshold: 0.9})

	mails := testkit.WaitMails(t, to, 2, time.Minute)
	time.Sleep(3 * time.Second) // nothing more may come
	mails = testkit.MailsTo(t, to)
	var opened *testkit.Mail
	hostMails := 0
	for i, m := range mails {
		switch {
		case strings.Contains(m.Subject, "incident from "+base.Key):
			if opened != nil {
				t.Fatalf("the burst gave more than one incident mail: %q and %q", opened.Subject, m.Subject)
			}
			opened = &mails[i]
		case strings.Contains(m.Subject, "host_disk_full"):
			hostMails++
		default:
			t.Errorf("unexpected mail %q", m.Subject)
		}
	}
	if opened == nil || hostMails != 1 || len(mails) != 2 {
		t.Fatalf("mails after the burst: %d (incident %v, host %d)", len(mails), opened != nil, hostMails)
	}
	if !strings.Contains(opened.Text, "(version 6)") || !strings.Contains(opened.Subject, "HIGH") {
		t.Errorf("the incident mail does not show the newest version: %q\n%s", opened.Subject, opened.Text)
	}
	threadID := "<incident-" + base.ID + "@logmon>"
	if h := testkit.MailHeaders(t, opened.ID); !strings.Contains(strings.Join(h["Message-Id"], " ")+strings.Join(h["Message-ID"], " "), threadID) {
		t.Errorf("opening mail's Message-ID: %v, want %s", h, threadID)
	}

	// Critical: one reply in the thread.
	critical := version(7, "critical", "brute_force", "root_attempts")
	sendIncidents(t, p.K, incTopic, critical)
	mails = testkit.WaitMails(t, to, 3, time.Minute)
	if len(mails) != 3 {
		t.Fatalf("after the escalation: %d mails, want 3", len(mails))
	}
	reply := mails[2]
	h := testkit.MailHeaders(t, reply.ID)
	if !strings.HasPrefix(reply.Subject, "Re: ") || strings.Join(h["In-Reply-To"], " ") != threadID || !strings.Contains(strings.Join(h["References"], " "), threadID) {
		t.Errorf("the escalation reply: subject %q, headers In-Reply-To %v References %v, want %s", reply.Subject, h["In-Reply-To"], h["References"], threadID)
	}

	// A replay of old incidents: one backfill summary.
	old := time.Date(2015, 12, 10, 6, 0, 0, 0, time.UTC)
	var backfill []contracts.Incident
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		inc := contracts.Incident{ID: base.ID + "-old-" + ip, Key: ip, KeyType: contracts.KeyTypeIP, Status: contracts.IncidentOpen, Version: 1,
			Severity: "high", Rules: []string{"brute_force"}, FirstEventTime: old.Add(time.Duration(i) * time.Hour),
			LastEventTime: old.Add(time.Duration(i)*time.Hour + 10*time.Minute), OpenedAt: old, UpdatedAt: old}
		backfill = append(backfill, inc)
	}
	sendIncidents(t, p.K, incTopic, backfill...)
	mails = testkit.WaitMails(t, to, 4, time.Minute)
	time.Sleep(3 * time.Second)
	mails = testkit.MailsTo(t, to)
	if len(mails) != 4 || !strings.Contains(mails[3].Subject, "backfill: 3 incidents") {
		subjects := []string{}
		for _, m := range mails {
			subjects = append(subjects, m.Subject)
		}
		t.Fatalf("after the replay: %v, want one backfill summary of 3", subjects)
	}

	// A restart reads what it had not committed: nothing is mailed again.
	stop()
	stop = start()
	defer stop()
	time.Sleep(6 * time.Second)
	if got := testkit.MailsTo(t, to); len(got) != 4 {
		t.Fatalf("after a restart: %d mails, want still 4", len(got))
	}
}

func sendIncidents(t *testing.T, k config.Kafka, topic string, incs ...contracts.Incident) {
	t.Helper()
	var msgs []*sarama.ProducerMessage
	for _, inc := range incs {
		b, _ := json.Marshal(inc)
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(inc.Key), Value: sarama.ByteEncoder(b)})
	}
	send(t, k, msgs)
}

func sendAlerts(t *testing.T, k config.Kafka, topic string, alerts ...contracts.Alert) {
	t.Helper()
	var msgs []*sarama.ProducerMessage
	for _, a := range alerts {
		b, _ := json.Marshal(a)
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(a.Key()), Value: sarama.ByteEncoder(b)})
	}
	send(t, k, msgs)
}

func send(t *testing.T, k config.Kafka, msgs []*sarama.ProducerMessage) {
	t.Helper()
	cfg := kafkaconfig.Sarama("it-notify-incidents")
	cfg.Producer.Flush.Frequency, cfg.Producer.Flush.Bytes = 0, 0
	pr, err := sarama.NewSyncProducer(k.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := pr.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
}

// TestKilledIncidentMailer runs `logmon notify` (incident mail, no settle)
// as a process, kills it with SIGKILL while it mails 300 incidents, and
// starts it again: every incident gets its opening mail, and at most the
// one in flight at the kill twice.
func TestKilledIncidentMailer(t *testing.T) {
	smtp := testkit.SMTP(t)
	p := pipeline.New(t, "it-notify-incident-kill")
	bin := testkit.BuildLogmon(t)
	incTopic := p.Group + "-incidents"
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), p.K, []topics.Spec{{Name: incTopic}}, logger); err != nil {
		t.Fatal(err)
	}
	to := testkit.UniqueName("incident-kill") + "@example.test"
	now := time.Now().UTC()
	incs := make([]contracts.Incident, 300)
	for i := range incs {
		incs[i] = contracts.Incident{ID: fmt.Sprintf("%s-%03d", p.Group, i), Key: fmt.Sprintf("192.0.2.%d", i%250+1), KeyType: contracts.KeyTypeIP,
			Status: contracts.IncidentOpen, Version: 1, Severity: "high", Rules: []string{contracts.RuleBruteForce},
			FirstEventTime: now.Add(-time.Minute), LastEventTime: now, OpenedAt: now, UpdatedAt: now}
	}
	sendIncidents(t, p.K, incTopic, incs...)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "notify", "-topic", p.Alerts, "-incidents-topic", incTopic, "-group", p.Group+"-notify", "-data-dir", p.Dir,
			"-to", to, "-daily-report=false", "-digest-after", "0", "-metrics-addr", "", "-log-level", "warn",
			"-smtp-host", smtp.Host, "-smtp-port", fmt.Sprint(smtp.Port))
		cmd.Env = append(os.Environ(), config.EnvIncidentSettle+"=0s")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	waitFor(t, "the first mails", time.Minute, func() bool { return testkit.MailCount(t, to) >= 30 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := testkit.MailCount(t, to)
	if killedAt >= len(incs) {
		t.Fatalf("every mail was out before the kill (%d): the test did not kill a busy mailer", killedAt)
	}
	cmd = start()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testkit.WaitMails(t, to, len(incs), 2*time.Minute)
	time.Sleep(2 * time.Second) // anything re-sent late would show now
	mails := testkit.MailsTo(t, to)
	count := map[string]int{}
	for _, m := range mails {
		for _, line := range strings.Split(m.Text, "\n") {
			if id, ok := strings.CutPrefix(line, "Incident id:"); ok {
				count[strings.TrimSpace(id)]++
			}
		}
	}
	twice := 0
	for _, inc := range incs {
		switch c := count[inc.ID]; {
		case c == 0:
			t.Errorf("incident %s never mailed", inc.ID)
		case c > 2:
			t.Errorf("incident %s mailed %d times", inc.ID, c)
		case c == 2:
			twice++
		}
	}
	if twice > 1 {
		t.Errorf("%d incidents mailed twice; at most the one in flight at the kill may be", twice)
	}
	t.Logf("killed after %d mails; %d mails in all for %d incidents, %d sent twice", killedAt, len(mails), len(incs), twice)
}
