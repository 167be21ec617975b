package api_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/hoststage"
	"github.com/log-monitor/log_monitor/views"
)

// TestHostsOverREST: a sample through the real host stage shows in GET
// /v1/hosts and /v1/hosts/{name} with its resources, and an unknown host
// is a 404.
func TestHostsOverREST(t *testing.T) {
	f := newFixture(t, "it-api-hosts")
	input := f.Group + "-system-metrics"
	activity := contracts.HostActivityTopic(f.Input)
	r := hoststage.New(hoststage.Config{Kafka: f.K, Group: hoststage.Group(f.Group), Input: input, Activity: activity, Alerts: f.Alerts,
		Rules: detect.DefaultRules(), StorageDir: t.TempDir()}, nil, logger)
	background(t, "host stage", r.Run)
	em, err := goka.NewEmitter(f.K.Brokers, goka.Stream(input), new(codec.Bytes), kafkaconfig.EmitterOptions(f.K)...)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Finish()
	s := contracts.HostSample{Timestamp: time.Now().UTC().Truncate(time.Second), HostName: "web-1", IntervalSeconds: 600,
		CPU:         contracts.CPUSample{Cores: 4, Norm: contracts.CPUTimes{User: 0.25, System: 0.05, Idle: 0.7}},
		Memory:      contracts.MemorySample{Total: 8 << 30, ActualUsedPct: 0.5},
		Load:        contracts.LoadSample{Load1: 1.5},
		Filesystems: []contracts.FilesystemStat{{MountPoint: "/", UsedPct: 0.93, Total: 100, Used: 93}}}
	b, _ := json.Marshal(s)
	if err := em.EmitSync("web-1", b); err != nil {
		t.Fatal(err)
	}
	actEm, err := goka.NewEmitter(f.K.Brokers, goka.Stream(activity), new(codec.Bytes), kafkaconfig.EmitterOptions(f.K)...)
	if err != nil {
		t.Fatal(err)
	}
	defer actEm.Finish()
	act, _ := json.Marshal(contracts.HostActivity{HostName: "web-1", Minutes: []contracts.MinuteActivity{
		{Minute: time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute), Failed: 7, Succeeded: 2, FailedByIP: map[string]int64{"198.51.100.4": 7}},
		{Minute: time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute), Failed: 100}, // older than the hour
	}})
	if err := actEm.EmitSync("web-1", act); err != nil {
		t.Fatal(err)
	}
	// The table exists once the stage ran: start the view after it.
	hv, err := views.NewHosts(f.K, f.Group, logger)
	if err != nil {
		t.Fatal(err)
	}
	background(t, "hosts view", hv.Run)
	f.startTrackerView(t)
	cfg := f.config()
	srv, err := api.New(cfg, f.tv, f.alertsView(t, 10), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv.WithHosts(hv)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	background(t, "api server", srv.Run)
	base := "http://" + srv.HTTPAddr()
	get := func(path string) (int, map[string]any) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	deadline := time.Now().Add(time.Minute)
	var host map[string]any
	for {
		code, m := get("/v1/hosts/web-1")
		if code == http.StatusOK && m["ssh_failed_last_hour"] == 7.0 {
			host = m
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/hosts/web-1: %d %v", code, m)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if cpu, _ := host["cpu_norm_pct"].(float64); host["state"] != hoststage.StateCritical || math.Abs(cpu-0.3) > 1e-9 ||
		host["cores"] != 4.0 || host["last_sample"] != s.Timestamp.Format(time.RFC3339) {
		t.Errorf("host: %v", host)
	}
	if ips, _ := host["ssh_top_source_ips"].([]any); host["ssh_succeeded_last_hour"] != 2.0 || len(ips) != 1 {
		t.Errorf("SSH activity: %v", host)
	}
	if recent, _ := host["recent"].([]any); len(recent) != 1 {
		t.Errorf("recent samples: %v", host["recent"])
	}
	eps, _ := host["episodes"].([]any)
	if len(eps) != 1 || eps[0].(map[string]any)["rule"] != contracts.RuleHostDiskFull {
		t.Errorf("episodes: %v", host["episodes"])
	}
	code, list := get("/v1/hosts")
	if hosts, _ := list["hosts"].([]any); code != http.StatusOK || len(hosts) != 1 {
		t.Errorf("GET /v1/hosts: %d %v", code, list)
	}
	if code, m := get("/v1/hosts/nope"); code != http.StatusNotFound {
		t.Errorf("GET /v1/hosts/nope: %d %v", code, m)
	}
}
