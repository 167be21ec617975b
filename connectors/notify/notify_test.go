package notify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/notify"
	"github.com/log-monitor/log_monitor/contracts"
)

func TestLedgerSurvivesReopenAndDropsOldIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "sent.log")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l, err := notify.OpenLedger(path, 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(now.Add(-30*time.Hour), "old"); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(now, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !l.Has("a") || !l.Has("old") || l.Has("c") {
		t.Fatal("Has after Add")
	}
	l.Close()
	// A crash tore the last line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("torn-without-time")
	f.Close()

	l, err = notify.OpenLedger(path, 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.Has("a") || !l.Has("b") || l.Has("old") || l.Has("torn-without-time") || l.Len() != 2 {
		t.Errorf("after reopen: a %v b %v old %v torn %v len %d", l.Has("a"), l.Has("b"), l.Has("old"), l.Has("torn-without-time"), l.Len())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "old") || strings.Contains(string(b), "torn") {
		t.Errorf("ledger file not compacted:\n%s", b)
	}
}

func TestAlertMessage(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	a := &contracts.Alert{ID: "abc123", Rule: "distributed_attack", Severity: "critical", Level: 1, User: "root",
		IPs: []string{"1.1.1.1", "2.2.2.2"}, Count: 40, WindowSeconds: 600,
		WindowStart: time.Date(2015, 12, 10, 0, 0, 0, 0, time.UTC), LastEventTime: time.Date(2015, 12, 10, 0, 9, 0, 0, time.UTC)}
	m, err := notify.AlertMessage(a, []string{"x@y.org"}, seoul, notify.Links{API: "https://api.example/", Kibana: "https://kibana.example"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "[logmon] CRITICAL distributed_attack from user root" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, s := range []string{"Attacking IPs:", "1.1.1.1, 2.2.2.2", "2015-12-10 09:09:00 KST", "10m0s", "abc123"} {
		if !strings.Contains(m.Text, s) {
			t.Errorf("text lacks %q:\n%s", s, m.Text)
		}
	}
	// No IP: no API link; Kibana filters on the user.
	if strings.Contains(m.Text, "/v1/ips/") || !strings.Contains(m.HTML, "user%3A%22root%22") {
		t.Errorf("links:\n%s", m.HTML)
	}
	// HTML is escaped.
	a.User = "<script>"
	m, _ = notify.AlertMessage(a, []string{"x@y.org"}, seoul, notify.Links{})
	if strings.Contains(m.HTML, "<script>") {
		t.Error("HTML not escaped")
	}
}

func TestDigestSubject(t *testing.T) {
	alerts := []*contracts.Alert{
		{ID: "1", Severity: "high", IP: "1.1.1.1"}, {ID: "2", Severity: "critical", IP: "1.1.1.1"}, {ID: "3", Severity: "low", User: "bob"},
	}
	if got, want := notify.DigestSubject(alerts), "[logmon] digest: 3 alerts from 2 sources (1 critical, 1 high, 1 low)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestHostAlertSubjectsAndFacts(t *testing.T) {
	a := &contracts.Alert{Rule: contracts.RuleHostDiskFull, Severity: "critical", Host: "db-1", Hosts: []string{"db-1"},
		Value: 0.991, Threshold: 0.9, MountPoint: "/data", ID: "x"}
	if got, want := notify.Subject(a), "[logmon] CRITICAL host_disk_full on db-1"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	msg, err := notify.AlertMessage(a, []string{"ops@example.test"}, time.UTC, notify.Links{Kibana: "http://k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, fact := range []string{"99.1% (threshold 90%)", "/data", "host_name"} {
		if !strings.Contains(msg.Text+msg.HTML, fact) {
			t.Errorf("mail lacks %q:\n%s", fact, msg.Text)
		}
	}
	a.Recovery = true
	if got, want := notify.Subject(a), "[logmon] RECOVERED host_disk_full on db-1"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}
