package tracker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// group runs the tracker's goka graph on goka's tester: real callbacks,
// loopbacks and table, no Kafka.
type group struct {
	tt     *tester.Tester
	alerts *tester.QueueTracker
	tr     *tracker.Tracker
	parser *sshlog.Parser
	off    int64
}

func newGroup(t *testing.T) *group {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	tt := tester.New(t)
	tr := tracker.New(tracker.Config{Group: "unit", Input: "ssh-log", Alerts: "ssh-alerts", Rules: detect.DefaultRules(), ReportLoc: loc}, nil, logger)
	ctx, cancel := context.WithCancel(context.Background())
	var stages []chan struct{}
	for _, gg := range []*goka.GroupGraph{tr.Graph(), tr.UsersGraph()} {
		p, err := goka.NewProcessor(nil, gg, goka.WithTester(tt))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		stages = append(stages, done)
	}
	t.Cleanup(func() {
		cancel()
		for _, done := range stages {
			<-done
		}
	})
	return &group{tt: tt, alerts: tt.NewQueueTracker("ssh-alerts"), tr: tr,
		parser: sshlog.NewParser(sshlog.Source{Path: "/data/ssh-unit.log", Year: 2015, Loc: loc}, nil)}
}

// line feeds one syslog line as ingest publishes it, under the key the IP
// stage's consumer presents it with (the IP, when the line has one).
func (g *group) line(s string) {
	ev := g.parser.Parse(s, g.off, time.Now())
	g.off += int64(len(s)) + 1
	key := ev.RowHash
	if ev.IP != "" {
		key = ev.IP
	}
	g.tt.Consume("ssh-log", key, ev.AppendJSON(nil))
}

// fired returns the rules of the alerts emitted since the last call.
func (g *group) fired() []string {
	var rules []string
	for {
		_, v, ok := g.alerts.Next()
		if !ok {
			return rules
		}
		rules = append(rules, v.(*contracts.Alert).Rule)
	}
}

func count(rules []string, rule string) int {
	n := 0
	for _, r := range rules {
		if r == rule {
			n++
		}
	}
	return n
}

func TestBruteForceFiresAtTheTenthFailure(t *testing.T) {
	g := newGroup(t)
	for i := 0; i < 9; i++ {
		g.line(fmt.Sprintf("Dec 10 06:55:%02d LabSZ sshd[100]: Failed password for admin from 10.9.9.9 port %d ssh2", 10+i, 4000+i))
	}
	if n := count(g.fired(), "brute_force"); n != 0 {
		t.Fatalf("brute_force fired after 9 failures (%d alerts)", n)
	}
	g.line("Dec 10 06:55:30 LabSZ sshd[100]: Failed password for admin from 10.9.9.9 port 4010 ssh2")
	if n := count(g.fired(), "brute_force"); n != 1 {
		t.Fatalf("brute_force: %d alerts at the 10th failure, want 1", n)
	}
	g.line("Dec 10 06:55:31 LabSZ sshd[100]: Failed password for admin from 10.9.9.9 port 4011 ssh2")
	if n := count(g.fired(), "brute_force"); n != 0 {
		t.Fatalf("brute_force alerted again inside its cooldown (%d)", n)
	}
	rec, _ := g.tt.TableValue(goka.GroupTable("unit"), "10.9.9.9").(*tracker.IPRecord)
	if rec == nil || len(rec.Days) != 1 || rec.Days[0].Failed != 11 || rec.Days[0].Events != 11 {
		t.Fatalf("IP record: %+v", rec)
	}
}

func TestRepeatedLineCountsN(t *testing.T) {
	g := newGroup(t)
	g.line("Dec 10 07:00:01 LabSZ sshd[200]: Failed password for root from 10.8.8.8 port 22 ssh2")
	g.line("Dec 10 07:00:02 LabSZ sshd[200]: message repeated 9 times: [ Failed password for root from 10.8.8.8 port 22 ssh2]")
	got := g.fired()
	if count(got, "brute_force") != 1 || count(got, "root_attempts") != 1 {
		t.Fatalf("1 + 9 repeated root failures: alerts %v, want brute_force and root_attempts", got)
	}
}

func TestDayAggregate(t *testing.T) {
	g := newGroup(t)
	g.line("Dec 10 23:59:59 LabSZ sshd[1]: Failed password for root from 10.7.7.7 port 22 ssh2")
	g.line("Dec 11 00:00:00 LabSZ sshd[1]: Failed password for root from 10.7.7.7 port 22 ssh2")
	g.line("Dec 11 00:00:01 LabSZ sshd[2]: pam_unix(sshd:session): session closed for user alice")
	var total, errors, unique int64
	for _, s := range g.tr.DayParts()["2015-12-11"] {
		total += s.Total
		errors += s.Errors
		unique += s.UniqueIPs
	}
	if total != 2 || errors != 1 || unique != 1 {
		t.Fatalf("2015-12-11: total %d errors %d unique_ips %d, want 2, 1, 1", total, errors, unique)
	}
}

// The user stage: distributed_attack fires when the 20th failure on one
// user comes from the 5th IP within 10 minutes, not before.
func TestDistributedAttackThroughUserStage(t *testing.T) {
	g := newGroup(t)
	n := 0
	for ip := 1; ip <= 5; ip++ {
		for i := 0; i < 4; i++ {
			n++
			g.line(fmt.Sprintf("Dec 10 08:%02d:%02d LabSZ sshd[300]: Failed password for oracle from 10.6.6.%d port %d ssh2", n/60, n%60, ip, 5000+n))
			got := count(g.fired(), "distributed_attack")
			if want := map[bool]int{true: 1, false: 0}[n == 20]; got != want {
				t.Fatalf("failure %d (IP %d): %d distributed_attack alerts, want %d", n, ip, got, want)
			}
		}
	}
	rec, _ := g.tt.TableValue(goka.GroupTable("unit-users"), "u|oracle").(*tracker.UserRecord)
	if rec == nil || rec.Detect.Failures() != 20 || len(rec.Detect.IPs()) != 5 {
		t.Fatalf("user record: %+v", rec)
	}
}

// A record that is not on its IP's partition (here: not presented under
// its IP) cannot reach the IP's state: it counts in its day's totals only,
// and the IP's record is not touched.
func TestMisplacedRecordCountsInTheDayOnly(t *testing.T) {
	g := newGroup(t)
	s := "Dec 11 00:00:05 LabSZ sshd[3]: Failed password for root from 10.6.6.6 port 22 ssh2"
	ev := g.parser.Parse(s, g.off, time.Now())
	g.tt.Consume("ssh-log", ev.RowHash, ev.AppendJSON(nil))
	if rec := g.tt.TableValue(goka.GroupTable("unit"), "10.6.6.6"); rec != nil {
		t.Fatalf("misplaced record reached the IP's state: %+v", rec)
	}
	var total, unique int64
	for _, st := range g.tr.DayParts()["2015-12-11"] {
		total += st.Total
		unique += st.UniqueIPs
	}
	if total != 1 || unique != 0 {
		t.Fatalf("2015-12-11: total %d unique_ips %d, want 1 and 0", total, unique)
	}
}
