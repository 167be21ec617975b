package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
)

// TestPipelineWatchesItself runs `logmon process`, `logmon index` and
// `logmon watchdog` as their own processes on real Kafka and Elasticsearch
// (heartbeats every 4 s: a broker's death stops a partition for about the
// 9 s the controller takes to fence it, and a heartbeat missed then must
// not count; a 6 s stall window) and breaks the pipeline
// the ways an operator meets: the processor stopped while input arrives,
// the sink SIGKILLed, Elasticsearch stopped, a broker SIGKILLed. Each time
// `logmon status -json` shows it and the watchdog's alert (then its
// recovery) arrives on the alert topic.
func TestPipelineWatchesItself(t *testing.T) {
	k := testkit.Kafka(t)
	es := testkit.Elastic(t)
	st := testkit.Stack(t)
	bin := testkit.BuildLogmon(t)
	r := pipeline.New(t, "it-health")
	g := r.Group
	hb, dlq, hosts := g+"-heartbeats", g+"-dlq", g+"-system-metrics"
	indexSuffix := strings.ToLower(g)
	t.Cleanup(func() { testkit.DeleteIndices(es.URLs[0], "*-"+indexSuffix) })
	common := []string{"-brokers", strings.Join(k.Brokers, ","), "-heartbeats-topic", hb, "-health-interval", "4s",
		"-instance", "it", "-log-level", "warn"}
	statusArgs := []string{"-es-urls", strings.Join(es.URLs, ","), "-status-groups", g, "-status-alerts-topic", r.Alerts,
		"-status-dlq-topic", dlq, "-status-indices", "ssh-log-" + indexSuffix}
	dir := t.TempDir()

	processAddr, indexAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	startProcess := func() *exec.Cmd {
		return testkit.StartLogmon(t, bin, nil, "process", append(common, "-group", g, "-input", r.Input, "-alerts", r.Alerts,
			"-metrics-topic", r.Metrics, "-hosts-input", hosts, "-data-dir", filepath.Join(dir, "process"), "-metrics-addr", processAddr)...)
	}
	startIndex := func() *exec.Cmd {
		return testkit.StartLogmon(t, bin, nil, "index", append(common, "-es-urls", strings.Join(es.URLs, ","), "-group", g+"-index",
			"-events-topic", r.Input, "-alerts-topic", r.Alerts, "-metrics-topic", r.Metrics, "-hosts-topic", hosts, "-dlq-topic", dlq,
			"-index-suffix", indexSuffix, "-data-dir", filepath.Join(dir, "index"), "-metrics-addr", indexAddr)...)
	}
	testkit.StartLogmon(t, bin, nil, "watchdog", append(append(common, statusArgs...), "-stall-window", "6s", "-metrics-addr", "")...)
	process, index := startProcess(), startIndex()

	status := func() *contracts.Status {
		t.Helper()
		args := append([]string{"status", "-json", "-brokers", strings.Join(k.Brokers, ","), "-heartbeats-topic", hb}, statusArgs...)
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("logmon status: %v", err)
		}
		var s contracts.Status
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("logmon status -json: %v\n%s", err, out)
		}
		return &s
	}
	waitStatus := func(what string, limit time.Duration, ok func(*contracts.Status) bool) *contracts.Status {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			s := status()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				b, _ := json.MarshalIndent(s, "", " ")
				t.Fatalf("status: not %s within %v:\n%s", what, limit, b)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	component := func(s *contracts.Status, name string) contracts.ComponentStatus {
		for _, c := range s.Components {
			if c.Component == name && c.Instance == "it" {
				return c
			}
		}
		return contracts.ComponentStatus{}
	}
	inputLag := func(s *contracts.Status) (lag int64, partitions int) {
		for _, gs := range s.Groups {
			if gs.Group != g {
				continue
			}
			for _, p := range gs.Partitions {
				if p.Topic == r.Input {
					lag += p.Lag
					partitions++
				}
			}
		}
		return lag, partitions
	}
	lines := func(n int, ip string) string {
		var b strings.Builder
		start := time.Date(2015, 12, 10, 6, 0, 0, 0, r.Loc)
		for i := range n {
			fmt.Fprintf(&b, "%s LabSZ sshd[%d]: Failed password for invalid user u%d from %s port %d ssh2\n",
				start.Add(time.Duration(i)*time.Second).Format(time.Stamp), 1000+i, i, ip, 40000+i)
		}
		return b.String()
	}

	// Running: every component up and ready, the group caught up.
	r.PublishLines(t, "first.log", lines(30, "198.51.100.7"))
	waitStatus("running and caught up", 2*time.Minute, func(s *contracts.Status) bool {
		lag, parts := inputLag(s)
		return component(s, "process").State == contracts.StateUp && component(s, "process").Ready &&
			component(s, "index").State == contracts.StateUp && component(s, "watchdog").State == contracts.StateUp &&
			parts == 3 && lag == 0 // every partition, committed or not
	})
	if code, body := get(t, "http://"+processAddr+"/readyz"); code != 200 {
		t.Fatalf("process /readyz: %d %s", code, body)
	}

	// The processor stopped while N events arrive: lag exactly N, then
	// pipeline_stalled; restarted: lag 0 and the recovery.
	stopLogmon(t, process, syscall.SIGTERM)
	const n = 250
	r.PublishLines(t, "second.log", lines(n, "198.51.100.8"))
	s := waitStatus("the stopped processor shown stopped", 30*time.Second, func(s *contracts.Status) bool {
		return component(s, "process").State == contracts.StateStopped
	})
	if lag, _ := inputLag(s); lag != n {
		t.Fatalf("group %s lags %d on %s, want exactly %d", g, lag, r.Input, n)
	}
	stalled := "group " + g
	waitRule(t, k, r.Alerts, contracts.RulePipelineStalled, time.Minute, func(a *contracts.Alert) bool { return a.Component == stalled })
	process = startProcess()
	readyz := pollReadyz(processAddr, 2*time.Minute)
	waitStatus("caught up again", 2*time.Minute, func(s *contracts.Status) bool { lag, _ := inputLag(s); return lag == 0 })
	waitRule(t, k, r.Alerts, contracts.RulePipelineStalled+"/recovery", time.Minute, func(a *contracts.Alert) bool { return a.Component == stalled })
	t.Logf("process /readyz while starting: %s", readyz)

	// The sink SIGKILLed: component_down within 3 intervals; restarted: recovered.
	stopLogmon(t, index, syscall.SIGKILL)
	killed := time.Now()
	waitRule(t, k, r.Alerts, contracts.RuleComponentDown, 30*time.Second, func(a *contracts.Alert) bool { return a.Component == "index/it" })
	t.Logf("component_down %.1f s after the SIGKILL (a heartbeat every 4 s, down after 3 missed)", time.Since(killed).Seconds())
	if c := component(status(), "index"); c.State != contracts.StateGone {
		t.Errorf("killed index: state %q", c.State)
	}
	index = startIndex()
	waitRule(t, k, r.Alerts, contracts.RuleComponentDown+"/recovery", time.Minute, func(a *contracts.Alert) bool { return a.Component == "index/it" })

	// Elasticsearch stopped: down in the status, elasticsearch_unhealthy,
	// the sink not ready with the reason; started: recovered.
	if err := st.StopElastic(testkit.Context(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	esStopped := false
	t.Cleanup(func() {
		if esStopped {
			_ = st.StartElastic()
			_ = st.WaitElastic(testkit.Context(t, 3*time.Minute))
		}
	})
	esStopped = true
	if s := status(); s.Elastic == nil || s.Elastic.Up {
		t.Errorf("Elasticsearch stopped, status: %+v", s.Elastic)
	}
	waitRule(t, k, r.Alerts, contracts.RuleElasticsearchUnhealthy, 30*time.Second, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, "http://"+indexAddr+"/readyz")
		if code == 503 && strings.Contains(body, "elasticsearch") {
			t.Logf("index /readyz with Elasticsearch down: %d %s", code, strings.TrimSpace(body))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index /readyz with Elasticsearch down: %d %s", code, body)
		}
		time.Sleep(time.Second)
	}
	if err := st.StartElastic(); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitElastic(testkit.Context(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	esStopped = false
	waitRule(t, k, r.Alerts, contracts.RuleElasticsearchUnhealthy+"/recovery", time.Minute, nil)

	// A broker SIGKILLed: under-replicated partitions, kafka_under_replicated;
	// back: recovered.
	restart := testkit.KillBrokers(t, st, 2)
	waitStatus("under-replicated", time.Minute, func(s *contracts.Status) bool { return s.Kafka.UnderReplicatedN > 0 })
	waitRule(t, k, r.Alerts, contracts.RuleKafkaUnderReplicated, 30*time.Second, nil)
	restart()
	waitRule(t, k, r.Alerts, contracts.RuleKafkaUnderReplicated+"/recovery", 3*time.Minute, nil)

	// Each episode alerted once and recovered once. (Other groups may
	// stall on the way: the user stage's with the IP stage's, the sink's
	// while Elasticsearch is down; those are true alerts too.)
	got := map[string]int{}
	for _, a := range alertsOn(t, k, r.Alerts) {
		if a.Component != "" {
			got[kind(a)+" "+a.Component]++
		}
	}
	for _, want := range []string{contracts.RulePipelineStalled + " " + stalled, contracts.RuleComponentDown + " index/it",
		contracts.RuleElasticsearchUnhealthy + " elasticsearch", contracts.RuleKafkaUnderReplicated + " kafka"} {
		rule, comp, _ := strings.Cut(want, " ")
		if got[want] != 1 || got[rule+"/recovery "+comp] != 1 {
			t.Errorf("%s: %d alerts and %d recoveries, want 1 and 1", want, got[want], got[rule+"/recovery "+comp])
		}
	}
	t.Logf("pipeline alerts: %v", got)
}

// stopLogmon sends sig and waits for the process to end.
func stopLogmon(t *testing.T, c *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	if err := c.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for c.Process.Signal(syscall.Signal(0)) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("logmon %s still runs a minute after %v", c.Args[1], sig)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pollReadyz asks /readyz until it answers 200 and returns what it said
// on the way: the reasons while the component was not ready.
func pollReadyz(addr string, limit time.Duration) string {
	var seen []string
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		line := fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(string(b)))
		if len(seen) == 0 || seen[len(seen)-1] != line {
			seen = append(seen, line)
		}
		if res.StatusCode == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return strings.Join(seen, " | ")
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
