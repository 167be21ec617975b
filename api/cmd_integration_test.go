package api_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/testkit"
)

// TestLogmonAPICommand runs `logmon api` as its own process: it becomes
// ready, serves REST, the OpenAPI document, /metrics and /healthz, and stops
// cleanly (exit 0) on SIGINT while an alert stream is open.
func TestLogmonAPICommand(t *testing.T) {
	f := newFixture(t, "it-api-cmd")
	f.producer(t).send(t, testAlert(1, attacker))
	bin := testkit.BuildLogmon(t)
	grpcAddr, httpAddr, metricsAddr := testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t)
	cmd := exec.Command(bin, "api", "-group", f.Group, "-alerts", f.Alerts, "-grpc-addr", grpcAddr, "-http-addr", httpAddr,
		"-metrics-addr", metricsAddr, "-data-dir", f.Dir, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	s := &server{grpcAddr: grpcAddr, base: "http://" + httpAddr, http: testHTTPClient()}
	deadline := time.Now().Add(time.Minute)
	for {
		code, _ := restTry(s, "/v1/ready")
		if code == 200 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("logmon api exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within a minute (last status %d)", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, m := s.rest(t, "/v1/alerts", ""); code != 200 || len(m["alerts"].([]any)) != 1 {
		t.Errorf("alerts: %d %v", code, m)
	}
	if code, body := s.restRaw(t, "/openapi.json", ""); code != 200 || !strings.Contains(string(body), `"/v1/ips/{ip}"`) {
		t.Errorf("openapi: %d", code)
	}
	ms := &server{base: "http://" + metricsAddr, http: testHTTPClient()}
	if code, body := ms.restRaw(t, "/metrics", ""); code != 200 || !strings.Contains(string(body), "logmon_api_calls_total") {
		t.Errorf("/metrics: %d, no logmon_api_calls_total", code)
	}
	if code, _ := ms.restRaw(t, "/healthz", ""); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	// An open stream must not hold the stop up.
	_ = restStream(t, s, "/v1/alerts/watch")

	stop := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("logmon api after SIGINT: %v, want exit 0", err)
		}
		t.Logf("logmon api stopped %v after SIGINT", time.Since(stop).Round(10*time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Fatal("logmon api still running 15 s after SIGINT")
	}
}
