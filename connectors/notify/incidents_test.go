package notify

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/contracts"
)

// sent records the mails instead of sending them (the decisions are
// tested here; TestIncidentMailThreads sends through Mailpit).
type sent struct{ mails []mail.Message }

func (s *sent) Send(_ context.Context, m mail.Message) error {
	s.mails = append(s.mails, m)
	return nil
}

func newIncidentMailer(t *testing.T, settle time.Duration, clock *time.Time) (*Notifier, *sent) {
	t.Helper()
	s := &sent{}
	n, err := New(Config{To: []string{"oncall@example.test"}, DigestAfter: 5, LedgerPath: filepath.Join(t.TempDir(), "ledger"),
		Incidents: &IncidentConfig{Settings: contracts.IncidentSettings{Gap: time.Hour, Settle: settle, BackfillAfter: time.Hour}}},
		s, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n.now = func() time.Time { return *clock }
	return n, s
}

func take(n *Notifier, st *incidentState, incs ...contracts.Incident) {
	for i := range incs {
		n.takeIncident(st, incidentItem{queued: queued{msg: &sarama.ConsumerMessage{}, id: incs[i].ID}, inc: &incs[i]})
	}
}

func TestManyIncidentsOpeningTogetherAreOneDigest(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	n, s := newIncidentMailer(t, 30*time.Second, &now)
	st := &incidentState{tracked: map[string]*tracked{}, queues: map[int32][]queued{}}
	for i := range 7 {
		take(n, st, contracts.Incident{ID: fmt.Sprint("i", i), Key: fmt.Sprint("10.0.0.", i), KeyType: "ip", Version: 1, Severity: "high", LastEventTime: now})
	}
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 0 {
		t.Fatalf("before the settle: %d mails, %v", len(s.mails), err)
	}
	now = now.Add(31 * time.Second)
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 1 || s.mails[0].Subject != "[logmon] 7 new incidents" {
		t.Fatalf("after the settle: %v %v", subjects(s), err)
	}
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 1 {
		t.Fatalf("again: %v", subjects(s))
	}
}

func TestSuccessfulLoginIsMailedAtOnceThenCriticalReplies(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	n, s := newIncidentMailer(t, time.Hour, &now)
	st := &incidentState{tracked: map[string]*tracked{}, queues: map[int32][]queued{}}
	inc := contracts.Incident{ID: "x", Key: "10.0.0.9", KeyType: "ip", Version: 1, Severity: "high", SuccessfulLogins: 1, LastEventTime: now}
	take(n, st, inc)
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 1 || !strings.Contains(s.mails[0].Subject, "incident from 10.0.0.9") {
		t.Fatalf("a login, within the settle: %v %v", subjects(s), err)
	}
	inc.Version, inc.Severity = 2, "critical"
	take(n, st, inc)
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 2 || s.mails[1].Headers["In-Reply-To"] != "<incident-x@logmon>" {
		t.Fatalf("critical: %v %v", subjects(s), err)
	}
	inc.Version = 3
	take(n, st, inc)
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 2 {
		t.Fatalf("nothing new: %v", subjects(s))
	}
}

func TestBackfillWaitsForTheCatchUpToBeQuiet(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	n, s := newIncidentMailer(t, 0, &now)
	st := &incidentState{tracked: map[string]*tracked{}, queues: map[int32][]queued{}}
	old := time.Date(2015, 12, 10, 6, 0, 0, 0, time.UTC)
	take(n, st, contracts.Incident{ID: "a", Key: "10.0.0.1", Version: 1, Severity: "high", FirstEventTime: old, LastEventTime: old})
	now = now.Add(3 * time.Second)
	take(n, st, contracts.Incident{ID: "b", Key: "10.0.0.2", Version: 1, Severity: "critical", SuccessfulLogins: 1, FirstEventTime: old, LastEventTime: old})
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 0 {
		t.Fatalf("while the catch-up goes on: %v %v", subjects(s), err)
	}
	now = now.Add(6 * time.Second)
	if err := n.mailIncidents(context.Background(), st); err != nil || len(s.mails) != 1 ||
		s.mails[0].Subject != "[logmon] backfill: 2 incidents from 2015-12-10 to 2015-12-10 (1 with a successful login)" {
		t.Fatalf("after the catch-up: %v %v", subjects(s), err)
	}
}

func subjects(s *sent) []string {
	var out []string
	for _, m := range s.mails {
		out = append(out, m.Subject)
	}
	return out
}
