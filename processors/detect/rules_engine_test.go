package detect

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

const ip1 = "203.0.113.7"

// thresholdCases build, for a count n, a stream that meets a rule's threshold
// exactly when n reaches it.
var thresholdCases = []struct {
	name  string
	rule  string
	thr   int
	count func(n int) int64 // the alert's expected count
	build func(n int) []Event
}{
	{"brute_force", contracts.RuleBruteForce, 10, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i), ip1, "admin"))
		}
		return s.evs
	}},
	{"slow_brute_force", contracts.RuleSlowBruteForce, 30, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i)*600, ip1, "admin"))
		}
		return s.evs
	}},
	{"user_enumeration", contracts.RuleUserEnumeration, 5, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(invalidEv(t0+int64(i), ip1, fmt.Sprintf("user%d", i)))
			// the Failed line of the same attempt names the same user: no new name
			s.add(invalidFailEv(t0+int64(i), ip1, fmt.Sprintf("user%d", i)))
		}
		return s.evs
	}},
	{"password_spraying users", contracts.RulePasswordSpraying, 10, func(int) int64 { return 30 }, func(n int) []Event {
		s := &stream{}
		for i := range 30 {
			s.add(failEv(t0+int64(i)*2, ip1, fmt.Sprintf("u%d", i%n)))
		}
		return s.evs
	}},
	{"password_spraying failures", contracts.RulePasswordSpraying, 30, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i)*2, ip1, fmt.Sprintf("u%d", i%10)))
		}
		return s.evs
	}},
	{"distributed_attack ips", contracts.RuleDistributedAttack, 5, func(int) int64 { return 20 }, func(n int) []Event {
		s := &stream{}
		for i := range 20 {
			s.add(failEv(t0+int64(i)*5, fmt.Sprintf("198.51.100.%d", i%n), "alice"))
		}
		return s.evs
	}},
	{"distributed_attack failures", contracts.RuleDistributedAttack, 20, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i)*5, fmt.Sprintf("198.51.100.%d", i%5), "alice"))
		}
		return s.evs
	}},
	{"compromise_suspected", contracts.RuleCompromise, 5, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i)*3600, ip1, "bob"))
		}
		s.add(successEv(t0+int64(n)*3600, ip1, "bob"))
		return s.evs
	}},
	{"root_attempts", contracts.RuleRootAttempts, 5, nil, func(n int) []Event {
		s := &stream{}
		for i := range n {
			s.add(failEv(t0+int64(i)*100, ip1, "root"))
		}
		return s.evs
	}},
}

func TestRulesFireExactlyAtThreshold(t *testing.T) {
	for _, c := range thresholdCases {
		t.Run(c.name, func(t *testing.T) {
			below := byRule(newEngine(t, DefaultRules()).run(c.build(c.thr-1)), c.rule)
			if len(below) != 0 {
				t.Fatalf("%d (threshold %d): fired %+v", c.thr-1, c.thr, below[0])
			}
			at := byRule(newEngine(t, DefaultRules()).run(c.build(c.thr)), c.rule)
			if len(at) != 1 {
				t.Fatalf("%d (threshold %d): %d alerts, want 1", c.thr, c.thr, len(at))
			}
			a := at[0]
			want := int64(c.thr)
			if c.count != nil {
				want = c.count(c.thr)
			}
			if a.Count != want || a.Level != 0 || a.Seq != 1 || a.Severity != Severity(c.rule, 0) {
				t.Errorf("alert count %d level %d seq %d severity %s, want count %d level 0 seq 1", a.Count, a.Level, a.Seq, a.Severity, want)
			}
			if a.ID == "" || a.Message == "" || a.Key() == "" || len(a.SampleRowHashes) == 0 || len(a.Hosts) != 1 {
				t.Errorf("incomplete alert %+v", a)
			}
			if !a.Timestamp.Equal(a.LastEventTime) || a.WindowStart.After(a.LastEventTime) || a.FirstEventTime.After(a.LastEventTime) {
				t.Errorf("times: %+v", a)
			}
			t.Logf("%s", a.Message)
		})
	}
}

func TestCompromiseSameUser(t *testing.T) {
	s := &stream{}
	for i := range 5 {
		s.add(failEv(t0+int64(i), ip1, "bob"))
	}
	s.add(successEv(t0+100, ip1, "bob"))
	s.add(successEv(t0+200, "192.0.2.1", "carol")) // another IP: nothing
	a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleCompromise)
	if len(a) != 1 || !a[0].SameUser || a[0].User != "bob" || a[0].Severity != "critical" {
		t.Fatalf("%+v", a)
	}

	s = &stream{}
	for i := range 5 {
		s.add(failEv(t0+int64(i), ip1, "admin"))
	}
	s.add(successEv(t0+100, ip1, "bob"))
	a = byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleCompromise)
	if len(a) != 1 || a[0].SameUser || a[0].User != "bob" {
		t.Fatalf("%+v", a)
	}

	// Failures older than 24h do not count.
	s = &stream{}
	for i := range 5 {
		s.add(failEv(t0+int64(i), ip1, "bob"))
	}
	s.add(successEv(t0+24*3600, ip1, "bob")) // window (t0, t0+24h]: the failure at t0 is out
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleCompromise); len(a) != 0 {
		t.Fatalf("fired with a failure 24h before: %+v", a)
	}
}

func TestRepeatedLineCountsN(t *testing.T) {
	for _, n := range []int{9, 10, 1000} {
		s := &stream{}
		s.add(repeatEv(t0, ip1, "admin", n))
		a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
		if n < 10 {
			if len(a) != 0 {
				t.Errorf("repeated %d times fired", n)
			}
			continue
		}
		if len(a) != 1 || a[0].Count != int64(n) {
			t.Fatalf("repeated %d times: %+v", n, a)
		}
		// 1000 >= 8 x 10: a single alert at the top level.
		if n == 1000 && (a[0].Level != 3 || a[0].Severity != "critical") {
			t.Errorf("repeated 1000: level %d severity %s", a[0].Level, a[0].Severity)
		}
	}
	// 9 single failures and a "repeated 2 times" line: 11 >= 10.
	s := &stream{}
	for i := range 8 {
		s.add(failEv(t0+int64(i), ip1, "admin"))
	}
	s.add(repeatEv(t0+8, ip1, "admin", 2))
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce); len(a) != 1 || a[0].Count != 10 {
		t.Fatalf("8 + repeated 2: %+v", a)
	}
}

func TestWindowBoundary(t *testing.T) {
	for _, c := range []struct {
		last int64
		fire bool
	}{{300, false}, {299, true}, {301, false}} {
		s := &stream{}
		s.add(failEv(t0, ip1, "admin"))
		for i := 1; i <= 8; i++ {
			s.add(failEv(t0+int64(i), ip1, "admin"))
		}
		s.add(failEv(t0+c.last, ip1, "admin"))
		a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
		if (len(a) == 1) != c.fire {
			t.Errorf("10th failure at +%ds (window 5m): fired %v, want %v", c.last, len(a) == 1, c.fire)
		}
		if c.fire && a[0].WindowStart.Unix() != t0 {
			t.Errorf("window start %v", a[0].WindowStart)
		}
	}
	// The same for distinct names: user_enumeration's 5 names within 10m.
	for _, c := range []struct {
		last int64
		fire bool
	}{{600, false}, {599, true}} {
		s := &stream{}
		for i := range 4 {
			s.add(invalidEv(t0+int64(i), ip1, fmt.Sprintf("n%d", i)))
		}
		s.add(invalidEv(t0+c.last, ip1, "n4"))
		a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleUserEnumeration)
		if (len(a) == 1) != c.fire {
			t.Errorf("5th name at +%ds (window 10m): fired %v, want %v", c.last, len(a) == 1, c.fire)
		}
	}
	// Sub-second windows round up: with a 90.5s window, a 90s span fires.
	r := DefaultRules()
	r.BruteForce = Threshold{N: 2, Window: 90*time.Second + 500*time.Millisecond}
	s := &stream{}
	s.add(failEv(t0, ip1, "a")).add(failEv(t0+90, ip1, "a"))
	if a := byRule(newEngine(t, r).run(s.evs), contracts.RuleBruteForce); len(a) != 1 {
		t.Errorf("90s span in a 90.5s window: %d alerts", len(a))
	}
}

func TestDisorderWithinLateness(t *testing.T) {
	// Nine failures, then one from another server whose clock (or queue) is
	// 60s behind: it still makes ten within 5m.
	s := &stream{}
	for i := range 9 {
		s.add(failEv(t0+100+int64(i), ip1, "admin"))
	}
	s.add(failEv(t0+48, ip1, "admin"))
	g := newEngine(t, DefaultRules())
	a := byRule(g.run(s.evs), contracts.RuleBruteForce)
	if len(a) != 1 || a[0].Count != 10 || a[0].WindowStart.Unix() != t0+48 || a[0].LastEventTime.Unix() != t0+108 {
		t.Fatalf("late failure within lateness: %+v", a)
	}
	if g.ips[ip1].LateEvents() != 0 {
		t.Errorf("late events %d", g.ips[ip1].LateEvents())
	}

	// A late event completing an older window: failures at 0..8, one at 350,
	// then one at 250 (100s late): the window (-50, 250] holds ten.
	s = &stream{}
	for i := range 9 {
		s.add(failEv(t0+int64(i), ip1, "admin"))
	}
	s.add(failEv(t0+350, ip1, "admin"))
	s.add(failEv(t0+250, ip1, "admin"))
	a = byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
	if len(a) != 1 || a[0].LastEventTime.Unix() != t0+250 {
		t.Fatalf("late failure completing an older window: %+v", a)
	}

	// Beyond the lateness (2m) the event only counts in the totals.
	s = &stream{}
	for i := range 9 {
		s.add(failEv(t0+200+int64(i), ip1, "admin"))
	}
	s.add(failEv(t0+50, ip1, "admin"))
	g = newEngine(t, DefaultRules())
	if a := byRule(g.run(s.evs), contracts.RuleBruteForce); len(a) != 0 {
		t.Fatalf("late failure beyond lateness fired: %+v", a)
	}
	if st := g.ips[ip1]; st.LateEvents() != 1 || st.Failures() != 10 || st.FirstSeen() != t0+50 {
		t.Errorf("late %d failures %d first %d", st.LateEvents(), st.Failures(), st.FirstSeen())
	}

	// Interleaved servers: every distinct-name and combined rule too.
	s = &stream{}
	for i := range 4 {
		s.add(invalidEv(t0+100+int64(i), ip1, fmt.Sprintf("n%d", i)))
	}
	s.add(invalidEv(t0+30, ip1, "late"))
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleUserEnumeration); len(a) != 1 {
		t.Fatalf("late invalid user: %+v", a)
	}
	s = &stream{}
	for i := range 19 {
		s.add(failEv(t0+100+int64(i), fmt.Sprintf("198.51.100.%d", i%4), "alice"))
	}
	s.add(failEv(t0+40, "198.51.100.99", "alice"))
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleDistributedAttack); len(a) != 1 {
		t.Fatalf("late fifth IP: %+v", a)
	}
	// The user state takes distributed_attack.lateness (30m): a partition
	// lagging 20 minutes behind the others still counts.
	s = &stream{}
	for i := range 15 {
		s.add(failEv(t0+1800+int64(i), fmt.Sprintf("198.51.100.%d", i%3), "alice"))
	}
	for i := range 5 {
		s.add(failEv(t0+600+int64(i), fmt.Sprintf("203.0.113.%d", i), "alice"))
	}
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleDistributedAttack); len(a) != 0 {
		t.Fatalf("fired without a window: %+v", a)
	}
	s = &stream{}
	for i := range 15 {
		s.add(failEv(t0+1800+int64(i), fmt.Sprintf("198.51.100.%d", i%3), "alice"))
	}
	for i := range 5 {
		s.add(failEv(t0+1800-1200+int64(i)*100, fmt.Sprintf("203.0.113.%d", i), "alice"))
	}
	// the lagging partition's failures at -1200s..-800s and the others at 0..14s are
	// not within 10m: no alert; at -500s..-100s they are
	if a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleDistributedAttack); len(a) != 0 {
		t.Fatalf("fired across more than the window: %+v", a)
	}
	s = &stream{}
	for i := range 15 {
		s.add(failEv(t0+1800+int64(i), fmt.Sprintf("198.51.100.%d", i%3), "alice"))
	}
	for i := range 5 {
		s.add(failEv(t0+1800-500+int64(i)*100, fmt.Sprintf("203.0.113.%d", i), "alice"))
	}
	g = newEngine(t, DefaultRules())
	if a := byRule(g.run(s.evs), contracts.RuleDistributedAttack); len(a) != 1 || g.users["alice"].LateEvents() != 0 {
		t.Fatalf("lagging partition within distributed_attack.lateness: %+v", a)
	}
}

func TestCooldownAndReminders(t *testing.T) {
	r := DefaultRules()
	r.MaxEscalations = 0
	s := &stream{}
	// one failure every 20s for 2h: the condition holds throughout
	for i := int64(0); i <= 7200/20; i++ {
		s.add(failEv(t0+i*20, ip1, "admin"))
	}
	a := byRule(newEngine(t, r).run(s.evs), contracts.RuleBruteForce)
	// first at the 10th failure (t0+180), reminders at +3600 and +7200 after it
	if len(a) != 2 {
		t.Fatalf("%d alerts, want 2 (first + 1h reminder): %v", len(a), a)
	}
	if a[0].LastEventTime.Unix() != t0+180 || a[1].LastEventTime.Unix() != t0+180+3600 {
		t.Errorf("alert times %v %v", a[0].LastEventTime, a[1].LastEventTime)
	}
	if a[1].Seq != 2 || a[1].Level != 0 || a[1].ID == a[0].ID || !a[1].EpisodeStart.Equal(a[0].EpisodeStart) {
		t.Errorf("reminder %+v", a[1])
	}
	if a[1].Count != 10+3600/20 {
		t.Errorf("reminder count %d, want %d", a[1].Count, 10+3600/20)
	}
}

func TestEscalation(t *testing.T) {
	s := &stream{}
	for i := range 200 {
		s.add(failEv(t0+int64(i), ip1, "admin"))
	}
	a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
	want := []struct {
		count int64
		level int
		sev   string
	}{{10, 0, "high"}, {20, 1, "critical"}, {40, 2, "critical"}, {80, 3, "critical"}}
	if len(a) != len(want) {
		t.Fatalf("%d alerts, want %d", len(a), len(want))
	}
	ids := map[string]bool{}
	for i, w := range want {
		if a[i].Count != w.count || a[i].Level != w.level || a[i].Severity != w.sev || a[i].Seq != i+1 {
			t.Errorf("alert %d: count %d level %d severity %s seq %d, want %+v", i, a[i].Count, a[i].Level, a[i].Severity, a[i].Seq, w)
		}
		if !a[i].FirstEventTime.Equal(unixTime(t0)) || a[i].LastEventTime.Unix() != t0+w.count-1 {
			t.Errorf("alert %d times %v %v", i, a[i].FirstEventTime, a[i].LastEventTime)
		}
		ids[a[i].ID] = true
	}
	if len(ids) != len(want) {
		t.Errorf("ids not distinct")
	}
	// slow_brute_force escalates on its own threshold: 30, 60, 120
	sl := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleSlowBruteForce)
	if len(sl) != 3 || sl[0].Severity != "medium" || sl[1].Severity != "high" || sl[2].Severity != "critical" {
		t.Errorf("slow: %+v", sl)
	}
	// factor 3, two steps: 10, 30, 90
	r := DefaultRules()
	r.EscalationFactor, r.MaxEscalations = 3, 2
	a = byRule(newEngine(t, r).run(s.evs), contracts.RuleBruteForce)
	if len(a) != 3 || a[1].Count != 30 || a[2].Count != 90 || a[2].Level != 2 {
		t.Errorf("factor 3: %+v", a)
	}
}

func TestNewEpisodeAfterCooldown(t *testing.T) {
	s := &stream{}
	burst := func(at int64) {
		for i := range 10 {
			s.add(failEv(at+int64(i), ip1, "admin"))
		}
	}
	burst(t0)
	burst(t0 + 1800) // within the cooldown: same episode, count 20 -> escalation
	burst(t0 + 1809 + 3600)
	a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
	if len(a) != 3 {
		t.Fatalf("%d alerts: %+v", len(a), a)
	}
	if a[1].Level != 1 || a[1].Seq != 2 || !a[1].EpisodeStart.Equal(a[0].EpisodeStart) {
		t.Errorf("second burst: %+v", a[1])
	}
	if a[2].Level != 0 || a[2].Seq != 1 || a[2].Count != 10 || a[2].EpisodeStart.Equal(a[0].EpisodeStart) || a[2].ID == a[0].ID {
		t.Errorf("new episode: %+v", a[2])
	}
	// the second burst's tenth failure one second less than the cooldown after
	// the last activity: same episode
	s = &stream{}
	burst(t0)
	burst(t0 + 3599)
	a = byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)
	if len(a) != 2 || a[1].Level != 1 {
		t.Fatalf("within cooldown: %+v", a)
	}
}

func TestDeterministicIDs(t *testing.T) {
	evs := randomStream(7, 3000, 6, 12, false)
	a1 := newEngine(t, DefaultRules()).run(evs)
	g := newEngine(t, DefaultRules())
	g.roundTrip = true // the processor's way: decode, apply, encode at every event
	a2 := g.run(evs)
	if len(a1) == 0 {
		t.Fatal("no alerts")
	}
	if !reflect.DeepEqual(a1, a2) {
		t.Fatalf("alerts differ between runs (%d vs %d)", len(a1), len(a2))
	}
	ids := map[string]bool{}
	for _, a := range a1 {
		if ids[a.ID] {
			t.Errorf("duplicate id %s (%s %s level %d seq %d)", a.ID, a.Rule, a.Key(), a.Level, a.Seq)
		}
		ids[a.ID] = true
	}
	if AlertID("brute_force", "1.2.3.4", 100, 0, 1) == AlertID("brute_force", "1.2.3.4", 101, 0, 1) ||
		AlertID("brute_force", "1.2.3.4", 100, 0, 1) == AlertID("brute_force", "1.2.3.5", 100, 0, 1) ||
		AlertID("brute_force", "1.2.3.4", 100, 0, 1) == AlertID("root_attempts", "1.2.3.4", 100, 0, 1) {
		t.Error("ids collide")
	}
}

func TestDisabledRule(t *testing.T) {
	r := DefaultRules()
	r.BruteForce.Disabled = true
	s := &stream{}
	for i := range 50 {
		s.add(failEv(t0+int64(i), ip1, "admin"))
	}
	a := newEngine(t, r).run(s.evs)
	if len(byRule(a, contracts.RuleBruteForce)) != 0 || len(byRule(a, contracts.RuleSlowBruteForce)) == 0 {
		t.Fatalf("%v", fired(a))
	}
}

func TestAlertJSON(t *testing.T) {
	s := &stream{}
	for i := range 10 {
		s.add(failEv(t0+int64(i), ip1, fmt.Sprintf("u%d", i%3)))
	}
	a := byRule(newEngine(t, DefaultRules()).run(s.evs), contracts.RuleBruteForce)[0]
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"@timestamp", "alert_id", "rule", "severity", "ip", "hosts", "count", "window_seconds",
		"window_start", "first_event_time", "last_event_time", "users", "sample_row_hashes", "message", "level", "same_user"} {
		if _, ok := m[f]; !ok {
			t.Errorf("field %s missing in %s", f, b)
		}
	}
	if _, ok := m["user"]; ok {
		t.Errorf("empty user written: %s", b)
	}
	var back contracts.Alert
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, a) {
		t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, back, a)
	}
	bin := AppendAlert(nil, &a)
	var back2 contracts.Alert
	if err := DecodeAlert(bin, &back2); err != nil || !reflect.DeepEqual(back2, a) {
		t.Fatalf("binary round trip: %v\n%+v\n%+v", err, back2, a)
	}
	t.Logf("alert: %d bytes JSON, %d bytes binary: %s", len(b), len(bin), b)
	if !strings.Contains(a.Message, ip1) {
		t.Errorf("message %q", a.Message)
	}
}

func TestZeroRulesFireNothing(t *testing.T) {
	evs := randomStream(3, 2000, 3, 8, false)
	if a := newEngine(t, Rules{}).run(evs); len(a) != 0 {
		t.Fatalf("zero Rules fired %v", fired(a))
	}
	// nil Rules means DefaultRules
	var s IPState
	n := 0
	for i := range 10 {
		s.Apply(nil, failEv(t0+int64(i), ip1, "x"), func(contracts.Alert) { n++ })
	}
	if n != 1 {
		t.Fatalf("nil rules: %d alerts", n)
	}
}

func TestSummary(t *testing.T) {
	r := DefaultRules()
	var s IPState
	for i := range 25 {
		s.Apply(&r, failEv(t0+int64(i), ip1, fmt.Sprintf("u%d", i%3)), nil)
	}
	s.Apply(&r, failEv(t0+30, ip1, RootUser), nil)
	s.Apply(&r, successEv(t0+40, ip1, "u1"), nil)
	sum := s.Summary(&r, 0)
	if sum.Events != 27 || sum.Failures != 26 || sum.Successes != 1 || !sum.BruteForce || sum.FirstSeen != t0 || sum.LastSeen != t0+40 {
		t.Errorf("%+v", sum)
	}
	if len(sum.UsersTried) != 4 || sum.UsersTried[0] != RootUser || len(sum.Hosts) != 0 || len(sum.SampleRowHashes) != 0 {
		t.Errorf("lists %+v", sum)
	}
	var rules []string
	for _, a := range sum.Active {
		rules = append(rules, a.Rule)
		if a.ID(ip1) == "" || a.Seq < 1 {
			t.Errorf("%+v", a)
		}
	}
	if fmt.Sprint(rules) != "[brute_force compromise_suspected]" {
		t.Errorf("active %v", rules)
	}
	for _, w := range sum.Windows {
		if w.Rule == contracts.RuleBruteForce && (w.Count != 26 || w.AtLeast) {
			t.Errorf("brute force window %+v", w)
		}
		if w.Rule == contracts.RuleRootAttempts && w.Count != 1 {
			t.Errorf("root window %+v", w)
		}
	}
	// 40 failures in a row: the state keeps 30, the count is a lower bound
	for i := range 40 {
		s.Apply(&r, failEv(t0+50+int64(i), ip1, "u0"), nil)
	}
	if n, atLeast := s.FailuresIn(&r, r.BruteForce.Window, 0); n < 30 || !atLeast {
		t.Errorf("after 66 failures: %d at least %v", n, atLeast)
	}
	// an hour and more later nothing is active
	later := s.Summary(&r, t0+90+3600)
	if later.BruteForce || len(later.Active) != 0 {
		t.Errorf("later %+v", later)
	}
}
