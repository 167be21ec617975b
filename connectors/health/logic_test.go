package health

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

var quiet = slog.New(slog.DiscardHandler)

func TestStalledWhenNothingConsumedForTheWindow(t *testing.T) {
	c := &Collector{cfg: Config{StallWindow: time.Minute}, history: map[string][]lagPoint{}}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	look := func(at time.Duration, lag, consumed int64) contracts.GroupStatus {
		g := contracts.GroupStatus{Group: "g", Lag: lag}
		c.judge(&g, lagPoint{at: t0.Add(at), lag: lag, consumed: consumed})
		return g
	}
	if g := look(0, 0, 100); g.Stalled || g.Growing {
		t.Fatalf("idle group: %+v", g)
	}
	if g := look(10*time.Second, 50, 100); g.Stalled || !g.Growing {
		t.Fatalf("lag appeared: %+v", g)
	}
	// Lag above zero since 10 s, nothing consumed: stalled once a whole
	// window of points with lag lies behind.
	if g := look(50*time.Second, 50, 100); g.Stalled {
		t.Fatalf("stalled before the window: %+v", g)
	}
	if g := look(75*time.Second, 50, 100); !g.Stalled || g.StalledSeconds < 60 {
		t.Fatalf("50 s without consumption after a minute of lag: %+v", g)
	}
	// Consuming again: the lag falls, not stalled.
	if g := look(80*time.Second, 10, 140); g.Stalled || g.Growing {
		t.Fatalf("consuming: %+v", g)
	}
}

func TestStalledWhenLagGrowsWhileConsuming(t *testing.T) {
	c := &Collector{cfg: Config{StallWindow: 30 * time.Second}, history: map[string][]lagPoint{}}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var g contracts.GroupStatus
	for i := range 8 {
		g = contracts.GroupStatus{Group: "g", Lag: int64(100 + 10*i)}
		c.judge(&g, lagPoint{at: t0.Add(time.Duration(i) * 10 * time.Second), lag: g.Lag, consumed: int64(1000 * i)})
	}
	if !g.Stalled || !g.Growing {
		t.Fatalf("lag grew for 70 s while consuming too slowly: %+v", g)
	}
	// One fall within the window: not stalled.
	g = contracts.GroupStatus{Group: "g", Lag: 50}
	c.judge(&g, lagPoint{at: t0.Add(80 * time.Second), lag: 50, consumed: 9000})
	if g.Stalled {
		t.Fatalf("lag fell: %+v", g)
	}
}

func TestComponentGoneAfterThreeIntervals(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	hb := contracts.Heartbeat{Component: "index", Instance: "a", IntervalSeconds: 10, Started: now.Add(-time.Hour)}
	for _, c := range []struct {
		age     time.Duration
		stopped bool
		want    string
	}{{5 * time.Second, false, contracts.StateUp}, {30 * time.Second, false, contracts.StateUp},
		{31 * time.Second, false, contracts.StateGone}, {time.Hour, true, contracts.StateStopped}} {
		hb.Time, hb.Stopped = now.Add(-c.age), c.stopped
		if got := componentStatus(hb, now).State; got != c.want {
			t.Errorf("heartbeat %v old (stopped %v): %s, want %s", c.age, c.stopped, got, c.want)
		}
	}
}

func TestWatchdogEpisodes(t *testing.T) {
	w := NewWatchdog(WatchdogConfig{Cooldown: time.Hour}, &Collector{cfg: Config{HeartbeatsTopic: "hb"}}, quiet)
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	down := &contracts.Status{Elastic: &contracts.ElasticStatus{URL: "http://es:9200", Error: "refused"},
		Kafka: contracts.KafkaStatus{Brokers: []contracts.BrokerStatus{{Addr: "k1", Up: true}}}}
	alerts, changed := w.evaluate(down, t0)
	if len(alerts) != 1 || !changed || alerts[0].Rule != contracts.RuleElasticsearchUnhealthy || alerts[0].Recovery || alerts[0].Key() != "elasticsearch" {
		t.Fatalf("first look at a down cluster: %+v", alerts)
	}
	first := alerts[0]
	if alerts, changed := w.evaluate(down, t0.Add(time.Minute)); len(alerts) != 0 || changed {
		t.Fatalf("still down a minute later: %+v", alerts)
	}
	alerts, _ = w.evaluate(down, t0.Add(61*time.Minute))
	if len(alerts) != 1 || alerts[0].Seq != 2 || alerts[0].ID == first.ID {
		t.Fatalf("reminder after the cooldown: %+v", alerts)
	}
	up := &contracts.Status{Elastic: &contracts.ElasticStatus{Up: true, Health: "green"}}
	alerts, changed = w.evaluate(up, t0.Add(62*time.Minute))
	if len(alerts) != 1 || !alerts[0].Recovery || !changed || !alerts[0].EpisodeStart.Equal(t0) {
		t.Fatalf("recovery: %+v", alerts)
	}
	if len(w.Episodes()) != 0 {
		t.Fatalf("episodes left: %+v", w.Episodes())
	}
	// The same episode seen by another watchdog gets the same ids.
	w2 := NewWatchdog(WatchdogConfig{}, &Collector{cfg: Config{HeartbeatsTopic: "hb"}}, quiet)
	if again, _ := w2.evaluate(down, t0); again[0].ID != first.ID {
		t.Fatalf("ids differ: %s %s", again[0].ID, first.ID)
	}
}

func TestConditions(t *testing.T) {
	st := &contracts.Status{
		Groups:     []contracts.GroupStatus{{Group: "logmon-tracker", Lag: 9, Stalled: true}, {Group: "logmon-index", Lag: 3}},
		Components: []contracts.ComponentStatus{{Heartbeat: contracts.Heartbeat{Component: "index", Instance: "a"}, State: contracts.StateGone}, {Heartbeat: contracts.Heartbeat{Component: "api", Instance: "a"}, State: contracts.StateStopped}},
		Kafka:      contracts.KafkaStatus{UnderReplicatedN: 4, Brokers: []contracts.BrokerStatus{{Up: true}, {Up: false}}},
	}
	got := map[string]string{}
	for _, c := range conditions(st) {
		got[c.rule] = c.component
	}
	want := map[string]string{contracts.RulePipelineStalled: "group logmon-tracker", contracts.RuleComponentDown: "index/a", contracts.RuleKafkaUnderReplicated: "kafka"}
	if len(got) != len(want) {
		t.Fatalf("conditions %v, want %v", got, want)
	}
	for r, c := range want {
		if got[r] != c {
			t.Errorf("%s: %q, want %q", r, got[r], c)
		}
	}
}

// A heartbeat missed while a broker is down proves nothing: no
// component_down then, nor for 3 intervals after; an episode already open
// stays open (no false recovery) until a heartbeat arrives.
func TestComponentDownWaitsOutKafkaTrouble(t *testing.T) {
	w := NewWatchdog(WatchdogConfig{Cooldown: time.Hour}, &Collector{cfg: Config{HeartbeatsTopic: "hb"}}, quiet)
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	gone := func(brokerUp bool) *contracts.Status {
		return &contracts.Status{
			Components: []contracts.ComponentStatus{{Heartbeat: contracts.Heartbeat{Component: "index", Instance: "a", IntervalSeconds: 4}, State: contracts.StateGone, SinceSeconds: 13}},
			Kafka:      contracts.KafkaStatus{Brokers: []contracts.BrokerStatus{{Addr: "k1", Up: true}, {Addr: "k2", Up: brokerUp}}},
		}
	}
	rules := func(alerts []*contracts.Alert) (out []string) {
		for _, a := range alerts {
			out = append(out, fmt.Sprintf("%s/%v", a.Rule, a.Recovery))
		}
		return out
	}
	if a, _ := w.evaluate(gone(false), t0); len(a) != 1 || a[0].Rule != contracts.RuleKafkaUnderReplicated {
		t.Fatalf("broker down, instance silent: %v, want only kafka_under_replicated", rules(a))
	}
	if a, _ := w.evaluate(gone(true), t0.Add(8*time.Second)); len(a) != 1 || !a[0].Recovery || a[0].Rule != contracts.RuleKafkaUnderReplicated {
		t.Fatalf("8 s after the broker came back: %v, want only the kafka recovery", rules(a))
	}
	a, _ := w.evaluate(gone(true), t0.Add(13*time.Second))
	if len(a) != 1 || a[0].Rule != contracts.RuleComponentDown || a[0].Recovery {
		t.Fatalf("13 s after (3 intervals of working Kafka): %v, want component_down", rules(a))
	}
	if a, _ := w.evaluate(gone(false), t0.Add(20*time.Second)); len(a) != 1 || a[0].Rule != contracts.RuleKafkaUnderReplicated {
		t.Fatalf("down instance during a second broker outage: %v, want the kafka alert and no component_down recovery", rules(a))
	}
	if len(w.Episodes()) != 2 {
		t.Fatalf("open episodes %+v, want component_down and kafka_under_replicated", w.Episodes())
	}
}
