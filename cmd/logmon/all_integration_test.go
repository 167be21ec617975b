package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/testkit"
)

// TestLogmonAll runs `logmon all` as its own process on the real Kafka,
// Elasticsearch and Mailpit: a brute-force attack written to a tailed file
// is ingested, processed, indexed, answered by the API and mailed; SIGINT
// stops every part and the process exits 0.
func TestLogmonAll(t *testing.T) {
	k := testkit.Kafka(t)
	es := testkit.Elastic(t)
	smtp := testkit.SMTP(t)
	bin := testkit.BuildLogmon(t)
	dir := t.TempDir()
	to := testkit.UniqueName("oncall") + "@example.test"
	ip := fmt.Sprintf("203.0.113.%d", 1+time.Now().UnixNano()%250)

	// Twelve failures three hours ago from another IP: older than the
	// backfill bound (1 h), so its incident is in a backfill summary, not
	// mailed on its own. Then twelve failures in the last minutes, in UTC,
	// as a live server writes them.
	oldIP := fmt.Sprintf("198.51.100.%d", 1+time.Now().UnixNano()%250)
	var b strings.Builder
	old := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	for i := range 12 {
		fmt.Fprintf(&b, "%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n",
			old.Add(time.Duration(i)*5*time.Second).Format(time.Stamp), 3000+i, oldIP, 50000+i)
	}
	start := time.Now().UTC().Add(-3 * time.Minute).Truncate(time.Second)
	for i := range 12 {
		fmt.Fprintf(&b, "%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n",
			start.Add(time.Duration(i)*5*time.Second).Format(time.Stamp), 4000+i, ip, 50000+i)
	}
	logFile := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(logFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	httpAddr := testkit.FreeAddr(t)
	name := testkit.UniqueName("it-all")
	testkit.DeleteTopicsAtEnd(t, k, name)
	cmd := exec.Command(bin, "all",
		"-brokers", strings.Join(k.Brokers, ","), "-es-urls", strings.Join(es.URLs, ","), "-name-prefix", name+"-",
		"-globs", logFile, "-from-start", "-source-tz", "UTC", "-report-tz", "UTC",
		"-data-dir", filepath.Join(dir, "data"), "-metrics-addr", testkit.FreeAddr(t), "-log-level", "warn",
		"-http-addr", httpAddr, "-grpc-addr", testkit.FreeAddr(t),
		"-smtp-host", smtp.Host, "-smtp-port", strconv.Itoa(smtp.Port), "-to", to,
		"-digest-window", "500ms", "-daily-report=false")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), config.EnvIncidentSettle+"=2s") // the attack's incident is mailed 2 s after it opens
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The API knows the attacker and its brute_force alert.
	deadline := time.Now().Add(2 * time.Minute)
	var status struct {
		IP           string `json:"ip"`
		ActiveAlerts []struct {
			Rule string `json:"rule"`
		} `json:"active_alerts"`
	}
	for {
		select {
		case err := <-exited:
			t.Fatalf("logmon all exited by itself: %v", err)
		default:
		}
		resp, err := http.Get("http://" + httpAddr + "/v1/ips/" + ip)
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				err = json.NewDecoder(resp.Body).Decode(&status)
			}
			resp.Body.Close()
			if err == nil && len(status.ActiveAlerts) > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert for %s in the API after 2 minutes (last %+v)", ip, status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if status.IP != ip || status.ActiveAlerts[0].Rule == "" {
		t.Errorf("IP status %+v", status)
	}
	rules := map[string]bool{}
	for _, a := range status.ActiveAlerts {
		rules[a.Rule] = true
	}
	if !rules["brute_force"] || !rules["root_attempts"] {
		t.Errorf("active alerts %v, want brute_force and root_attempts", rules)
	}

	// ... and the on-call address got one incident mail about it, and one
	// backfill summary naming the old attacker, which has no mail of its own.
	mails := testkit.WaitMails(t, to, 2, time.Minute)
	time.Sleep(3 * time.Second) // nothing more may come
	mails = testkit.MailsTo(t, to)
	var live, backfill int
	for _, m := range mails {
		switch {
		case strings.Contains(m.Subject, "incident from "+ip):
			live++
		case strings.Contains(m.Subject, "backfill") && strings.Contains(m.Text, oldIP):
			backfill++
		default:
			t.Errorf("unexpected mail %q", m.Subject)
		}
	}
	if live != 1 || backfill != 1 {
		t.Errorf("%d incident mails about %s, %d backfill summaries naming %s; want one each (%d mails)", live, ip, backfill, oldIP, len(mails))
	}

	// ... and Elasticsearch holds its twelve events.
	index := "ssh-log-" + name
	var count struct {
		Count int `json:"count"`
	}
	for deadline := time.Now().Add(time.Minute); count.Count != 12; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("index %s: %d documents of %s, want 12", index, count.Count, ip)
		}
		resp, err := http.Get(es.URLs[0] + "/" + index + "/_count?q=ip:%22" + ip + "%22")
		if err != nil {
			continue
		}
		_ = json.NewDecoder(resp.Body).Decode(&count)
		resp.Body.Close()
	}
	t.Cleanup(func() {
		for _, n := range []string{"ssh-log-", "ssh-alerts-", "metrics-daily-", "ssh-incidents-", "system-metrics-"} {
			req, _ := http.NewRequest(http.MethodDelete, es.URLs[0]+"/"+n+name, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("logmon all after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("logmon all did not stop within 30 s of SIGINT")
	}
}
