package hoststage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/hoststage"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
)

// TestHostRulesOnKafka runs the host stage on real Kafka: two hosts'
// samples raise host_cpu_high and host_disk_full, a calm sample recovers
// the CPU, a host that stops sending turns silent and recovers when it
// sends again; a second instance started after the first stopped (same
// group) raises nothing new. Each alert is checked by its id: a replay may
// re-send an alert, never raise another.
func TestHostRulesOnKafka(t *testing.T) {
	k := testkit.Kafka(t)
	prefix := testkit.UniqueName("it-hosts")
	testkit.DeleteTopicsAtEnd(t, k, prefix)
	input, alerts, group := prefix+"-system-metrics", prefix+"-alerts", prefix+"-group"
	activity := contracts.HostActivityTopic(prefix + "-ssh-log")
	rules := detect.DefaultRules()
	rules.Hosts.CPU.For = 2 * time.Second
	rules.Hosts.Silent.Intervals = 3
	// Seconds: silent after 3 s. With 0.5 s a full test run once saw db-1,
	// sending all along, silent: one delivery took longer than 1.5 s.
	const interval = 1.0
	start := func() (stop func()) {
		r := hoststage.New(hoststage.Config{Kafka: k, Group: group, Input: input, Activity: activity, Alerts: alerts, Rules: rules,
			StorageDir: t.TempDir(), CheckEvery: 200 * time.Millisecond}, nil, pipeline.Logger)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("host stage: %v", err)
			}
		}
	}
	stop := start()

	em, err := goka.NewEmitter(k.Brokers, goka.Stream(input), new(codec.Bytes), kafkaconfig.EmitterOptions(k)...)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Finish()
	actEm, err := goka.NewEmitter(k.Brokers, goka.Stream(activity), new(codec.Bytes), kafkaconfig.EmitterOptions(k)...)
	if err != nil {
		t.Fatal(err)
	}
	defer actEm.Finish()
	send := func(host string, cpu, disk float64) {
		s := contracts.HostSample{Timestamp: time.Now().UTC(), HostName: host, IntervalSeconds: interval,
			CPU:         contracts.CPUSample{Cores: 2, Norm: contracts.CPUTimes{User: cpu, Idle: 1 - cpu}},
			Memory:      contracts.MemorySample{ActualUsedPct: 0.4},
			Filesystems: []contracts.FilesystemStat{{MountPoint: "/", UsedPct: disk}}}
		b, _ := json.Marshal(s)
		if err := em.EmitSync(host, b); err != nil {
			t.Error(err)
		}
	}
	tick := time.Duration(interval * float64(time.Second))
	// keepSending sends host's samples every tick until the returned stop.
	keepSending := func(host string, cpu, disk float64) (stop func()) {
		done, quit := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				send(host, cpu, disk)
				select {
				case <-quit:
					return
				case <-time.After(tick):
				}
			}
		}()
		return func() { close(quit); <-done }
	}
	// db-1 sends all along, with a full disk.
	stopDB := keepSending("db-1", 0.1, 0.95)
	defer stopDB()
	// web-1 busy for 4 s (the rule wants 2 s), then calm (recovery),
	// then silent for 6 s, then back.
	busy := time.Now().UTC()
	for i := 0; i < 5; i++ {
		send("web-1", 0.97, 0.5)
		if i == 0 {
			// SSH failures on web-1 while it is busy, as ingest writes them.
			act, _ := json.Marshal(contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
				{Minute: busy.Truncate(time.Minute), Failed: 12, Succeeded: 1, FailedByIP: map[string]int64{"203.0.113.9": 12}}}})
			if err := actEm.EmitSync("web-1", act); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(tick)
	}
	send("web-1", 0.2, 0.5)
	time.Sleep(6 * time.Second)
	stopWeb := keepSending("web-1", 0.2, 0.5)
	defer stopWeb()
	want := []string{"db-1 host_disk_full", "web-1 host_cpu_high", "web-1 host_cpu_high/recovery", "web-1 host_silent", "web-1 host_silent/recovery"}
	got := waitAlerts(t, k, alerts, len(want), time.Minute)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
	for _, m := range testkit.ReadAll(t, k, alerts) {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.Rule == contracts.RuleHostCPUHigh && !a.Recovery {
			if a.SSH == nil || a.SSH.FailedLogins != 12 || a.SSH.SuccessfulLogins != 1 || len(a.SSH.TopSourceIPs) != 1 || a.SSH.TopSourceIPs[0].IP != "203.0.113.9" {
				t.Errorf("host_cpu_high's SSH activity: %+v", a.SSH)
			}
		}
	}
	stop()

	// A second instance of the group: the table and the committed offsets
	// carry on; nothing new is raised.
	stop = start()
	time.Sleep(4 * time.Second)
	stop()
	if got := waitAlerts(t, k, alerts, len(want), 0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a restart: alerts %v, want %v", got, want)
	}
}

// waitAlerts reads the alert topic until it holds n distinct alert ids (or
// limit passed) and returns them as sorted "host rule[/recovery]".
func waitAlerts(t *testing.T, k config.Kafka, topic string, n int, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		byID := map[string]string{}
		for _, m := range testkit.ReadAll(t, k, topic) {
			var a contracts.Alert
			if err := json.Unmarshal(m.Value, &a); err != nil {
				t.Fatal(err)
			}
			if string(m.Key) != a.Host {
				t.Fatalf("alert %s under key %q, want the host %q", a.ID, m.Key, a.Host)
			}
			what := a.Host + " " + a.Rule
			if a.Recovery {
				what += "/recovery"
			}
			if prev, ok := byID[a.ID]; ok && prev != what {
				t.Fatalf("id %s for %s and %s", a.ID, prev, what)
			}
			byID[a.ID] = what
		}
		if len(byID) >= n || time.Now().After(deadline) {
			var out []string
			for _, k := range byID {
				out = append(out, k)
			}
			sort.Strings(out)
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
}
