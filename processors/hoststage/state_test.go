package hoststage

import (
	"fmt"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func sample(at time.Duration, cpu, mem, disk float64) *contracts.HostSample {
	return &contracts.HostSample{Timestamp: t0.Add(at), HostName: "web-1", IntervalSeconds: 10,
		CPU:         contracts.CPUSample{Cores: 2, Norm: contracts.CPUTimes{User: cpu, Idle: 1 - cpu}},
		Memory:      contracts.MemorySample{ActualUsedPct: mem},
		Filesystems: []contracts.FilesystemStat{{MountPoint: "/", UsedPct: 0.5}, {MountPoint: "/data", UsedPct: disk}}}
}

func rules() *detect.Rules {
	r := detect.DefaultRules()
	return &r
}

// kinds lists the alerts as rule(+"/recovery"), seq.
func kinds(as []*contracts.Alert) []string {
	var out []string
	for _, a := range as {
		k := a.Rule
		if a.Recovery {
			k += "/recovery"
		}
		out = append(out, k)
	}
	return out
}

func TestCPUHighNeedsFiveMinutesThenRecovers(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	var got []*contracts.Alert
	off := int64(0)
	for at := time.Duration(0); at <= 5*time.Minute; at += 10 * time.Second {
		got = append(got, h.Observe(sample(at, 0.95, 0.5, 0.5), off, r)...)
		off++
		if at < 5*time.Minute && len(got) > 0 {
			t.Fatalf("alert after %v above the threshold: %v", at, kinds(got))
		}
	}
	if len(got) != 1 || got[0].Rule != contracts.RuleHostCPUHigh || got[0].Severity != "high" || !got[0].WindowStart.Equal(t0) {
		t.Fatalf("after 5 minutes at 95%%: %+v", got)
	}
	if h.State != StateCritical {
		t.Fatalf("state %q, want critical", h.State)
	}
	if n := len(h.Recent); n != keepRecent || !h.Recent[n-1].Time.Equal(t0.Add(5*time.Minute)) || h.Recent[n-1].CPUNorm != 0.95 {
		t.Fatalf("recent: %d points, last %+v", n, h.Recent[n-1])
	}
	// An hour later (the cooldown) a reminder, with the next seq.
	got = nil
	for at := 5*time.Minute + 10*time.Second; at <= 65*time.Minute; at += 10 * time.Second {
		got = append(got, h.Observe(sample(at, 0.95, 0.5, 0.5), off, r)...)
		off++
	}
	if len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("reminder: %v", kinds(got))
	}
	rec := h.Observe(sample(66*time.Minute, 0.2, 0.5, 0.5), off, r)
	if len(rec) != 1 || !rec[0].Recovery || rec[0].Rule != contracts.RuleHostCPUHigh || h.State != StateOK {
		t.Fatalf("recovery: %+v state %s", rec, h.State)
	}
	ids := map[string]bool{}
	for _, a := range append(got, rec...) {
		if ids[a.ID] {
			t.Fatalf("id %s twice", a.ID)
		}
		ids[a.ID] = true
	}
}

func TestDipResetsTheRun(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	var got []*contracts.Alert
	for i, at := 0, time.Duration(0); at <= 8*time.Minute; i, at = i+1, at+10*time.Second {
		cpu := 0.95
		if at == 4*time.Minute {
			cpu = 0.5
		}
		got = append(got, h.Observe(sample(at, cpu, 0.5, 0.5), int64(i), r)...)
	}
	// The run restarts at 4m10s: five minutes later is 9m10s.
	if len(got) != 0 {
		t.Fatalf("alerted across a dip: %v", kinds(got))
	}
	if h.State != StateWarning {
		t.Fatalf("state %q, want warning", h.State)
	}
}

func TestDiskAndMemory(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	got := h.Observe(sample(0, 0.1, 0.5, 0.99), 0, r)
	if len(got) != 1 || got[0].Rule != contracts.RuleHostDiskFull || got[0].MountPoint != "/data" || got[0].Severity != "critical" {
		t.Fatalf("disk: %+v", got)
	}
	var mem []*contracts.Alert
	for i := 1; i <= 31; i++ {
		mem = append(mem, h.Observe(sample(time.Duration(i)*10*time.Second, 0.1, 0.97, 0.5), int64(i), r)...)
	}
	if k := kinds(mem); len(k) != 2 || k[0] != "host_disk_full/recovery" || k[1] != contracts.RuleHostMemoryHigh {
		t.Fatalf("memory: %v", k)
	}
}

func TestSilentAndBack(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	h.Observe(sample(0, 0.1, 0.5, 0.5), 0, r)
	if got := h.Check(t0.Add(30*time.Second), 0, r); len(got) != 0 {
		t.Fatalf("silent at 3 intervals exactly: %v", kinds(got))
	}
	got := h.Check(t0.Add(31*time.Second), 1, r)
	if len(got) != 1 || got[0].Rule != contracts.RuleHostSilent || h.State != StateSilent {
		t.Fatalf("silent: %v %s", kinds(got), h.State)
	}
	if again := h.Check(t0.Add(40*time.Second), 2, r); len(again) != 0 {
		t.Fatalf("silent twice within the cooldown: %v", kinds(again))
	}
	back := h.Observe(sample(50*time.Second, 0.1, 0.5, 0.5), 1, r)
	if len(back) != 1 || back[0].Rule != contracts.RuleHostSilent || !back[0].Recovery || h.State != StateOK {
		t.Fatalf("back: %v %s", kinds(back), h.State)
	}
}

func TestReplayEmitsTheSameAlertsAndResentSamplesNothing(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	first := h.Observe(sample(0, 0.1, 0.5, 0.95), 7, r)
	again, ok := h.Replayed(FromSample, 7)
	if !ok || len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("replay of offset 7: %v %v", ok, again)
	}
	if _, ok := h.Replayed(FromSample, 8); ok {
		t.Fatal("offset 8 taken as a replay")
	}
	// The agent sends the same sample again under a new offset.
	if got := h.Observe(sample(0, 0.1, 0.5, 0.95), 8, r); len(got) != 0 {
		t.Fatalf("re-sent sample alerted: %v", kinds(got))
	}
	// Round trip through the table codec.
	b, err := Codec{}.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Codec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := v.(*HostState).Replayed(FromSample, 7); !ok || len(got) != 1 || got[0].ID != first[0].ID {
		t.Fatalf("decoded record lost its sent alerts: %v", got)
	}
}

func TestHostAlertCarriesTheSSHActivityOfItsWindow(t *testing.T) {
	h, r := NewHostState("web-1"), rules()
	minute := func(at time.Duration, failed, ok int64, byIP map[string]int64) contracts.MinuteActivity {
		return contracts.MinuteActivity{Minute: t0.Add(at).Truncate(time.Minute), Failed: failed, Succeeded: ok, FailedByIP: byIP}
	}
	h.AddActivity(&contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
		minute(-10*time.Minute, 99, 9, map[string]int64{"9.9.9.9": 99}), // before the window
		minute(time.Minute, 30, 0, map[string]int64{"1.1.1.1": 20, "2.2.2.2": 10}),
	}}, 0)
	h.AddActivity(&contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
		minute(time.Minute, 5, 1, map[string]int64{"2.2.2.2": 5}),
	}}, 1)
	if _, ok := h.Replayed(FromActivity, 1); !ok {
		t.Fatal("activity offset 1 not taken as applied")
	}
	var got []*contracts.Alert
	for i, at := 0, time.Duration(0); at <= 5*time.Minute; i, at = i+1, at+10*time.Second {
		got = append(got, h.Observe(sample(at, 0.95, 0.5, 0.5), int64(i), r)...)
	}
	if len(got) != 1 || got[0].SSH == nil {
		t.Fatalf("alerts: %+v", got)
	}
	ssh := got[0].SSH
	if ssh.FailedLogins != 35 || ssh.SuccessfulLogins != 1 || len(ssh.TopSourceIPs) != 2 ||
		ssh.TopSourceIPs[0] != (contracts.IPCount{IP: "1.1.1.1", Cnt: 20}) || ssh.TopSourceIPs[1] != (contracts.IPCount{IP: "2.2.2.2", Cnt: 15}) {
		t.Fatalf("ssh activity: %+v", ssh)
	}
}

func TestActivityKeepsTwoHoursAndFiftyIPsAMinute(t *testing.T) {
	h := NewHostState("web-1")
	byIP := map[string]int64{}
	for i := 0; i < 60; i++ {
		byIP[fmt.Sprintf("10.0.0.%d", i)] = int64(i + 1)
	}
	h.AddActivity(&contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
		{Minute: t0, Failed: 1830, FailedByIP: byIP},
	}}, 0)
	if n := len(h.SSH[t0.Unix()/60].FailedByIP); n != maxIPsPerMinute {
		t.Fatalf("%d IPs kept, want %d", n, maxIPsPerMinute)
	}
	if _, ok := h.SSH[t0.Unix()/60].FailedByIP["10.0.0.0"]; ok {
		t.Fatal("the least failing IP was kept")
	}
	h.AddActivity(&contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{{Minute: t0.Add(3 * time.Hour), Failed: 1}}}, 1)
	if len(h.SSH) != 1 {
		t.Fatalf("%d minutes kept, want the newest only", len(h.SSH))
	}
}

// TestSSHMinutesAndNetworkPoints: the API's chart series: minutes in
// order within the range, and each point's byte counters summed over the
// interfaces.
func TestSSHMinutesAndNetworkPoints(t *testing.T) {
	h := NewHostState("web-1")
	h.AddActivity(&contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
		{Minute: t0.Add(2 * time.Minute), Failed: 3}, {Minute: t0, Failed: 1, Succeeded: 1}, {Minute: t0.Add(-time.Hour), Failed: 7},
	}}, 0)
	got := h.SSHMinutes(t0.Add(-time.Minute), t0.Add(5*time.Minute))
	if len(got) != 2 || !got[0].Minute.Equal(t0) || got[0].Failed != 1 || !got[1].Minute.Equal(t0.Add(2*time.Minute)) || got[1].Failed != 3 {
		t.Fatalf("minutes %+v", got)
	}
	s := sample(0, 0.1, 0.2, 0.3)
	s.Network = []contracts.NetworkStat{{Name: "eth0", InBytes: 100, OutBytes: 10}, {Name: "eth1", InBytes: 50, OutBytes: 5}}
	h.Observe(s, 1, rules())
	if p := h.Recent[len(h.Recent)-1]; p.NetIn != 150 || p.NetOut != 15 {
		t.Fatalf("point %+v, want 150 in and 15 out", p)
	}
}
