package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/hoststage"
	"github.com/log-monitor/log_monitor/testkit"
)

// TestAgentDiskFullAndSilent runs `logmon agent` as its own process (2 s
// interval, so silent after 6 s: with 1 s a full test run once saw a
// second silent episode, a 3 s gap in delivery) into the host stage on
// real Kafka: a small ext4 filesystem
// (a loop device) filled past 90% gives host_disk_full naming its mount
// point, emptied its recovery; the agent SIGKILLed gives host_silent,
// restarted its recovery.
func TestAgentDiskFullAndSilent(t *testing.T) {
	k := testkit.Kafka(t)
	bin := testkit.BuildLogmon(t)
	dir := t.TempDir()
	mnt := mountLoop(t, dir)
	name := testkit.UniqueName("it-agent-e2e")
	testkit.DeleteTopicsAtEnd(t, k, name)
	input, alerts := name+"-system-metrics", name+"-alerts"
	host := name + "-host"

	rules := detect.DefaultRules()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r := hoststage.New(hoststage.Config{Kafka: k, Group: name + "-hosts", Input: input, Alerts: alerts, Rules: rules,
		StorageDir: filepath.Join(dir, "hosts"), CheckEvery: 300 * time.Millisecond}, nil, log)
	ctx, cancel := context.WithCancel(context.Background())
	stageDone := make(chan error, 1)
	go func() { stageDone <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-stageDone; err != nil {
			t.Errorf("host stage: %v", err)
		}
	}()

	startAgent := func() *exec.Cmd {
		cmd := exec.Command(bin, "agent", "-brokers", strings.Join(k.Brokers, ","), "-topic", input, "-host", host,
			"-interval", "2s", "-spool-dir", filepath.Join(dir, "spool"), "-data-dir", filepath.Join(dir, "data"),
			"-metrics-addr", "", "-log-level", "warn")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	agent := startAgent()
	time.Sleep(5 * time.Second) // a few samples of the empty filesystem

	fill := filepath.Join(mnt, "fill")
	if err := fillTo(mnt, fill, 0.95); err != nil {
		t.Fatal(err)
	}
	waitRule(t, k, alerts, "host_disk_full", time.Minute, func(a *contracts.Alert) bool { return a.MountPoint == mnt && a.Value > 0.9 })
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	waitRule(t, k, alerts, "host_disk_full/recovery", time.Minute, nil)

	if err := agent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitRule(t, k, alerts, "host_silent", time.Minute, nil)
	t.Logf("host_silent %.1f s after the SIGKILL (3 intervals of 2 s)", time.Since(killed).Seconds())
	startAgent()
	waitRule(t, k, alerts, "host_silent/recovery", time.Minute, nil)

	got := alertKinds(t, k, alerts)
	if want := []string{"host_disk_full", "host_disk_full/recovery", "host_silent", "host_silent/recovery"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

// mountLoop mounts a fresh 20 MiB ext4 filesystem under dir (root only).
func mountLoop(t *testing.T, dir string) string {
	t.Helper()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "small-fs")
	for _, c := range [][]string{
		{"truncate", "-s", "20M", img}, {"mkfs.ext4", "-q", "-F", img}, {"mkdir", "-p", mnt}, {"mount", "-o", "loop", img, mnt},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s (the test needs root and a loop device)", c, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

// fillTo writes file until the filesystem at mnt is frac used (of what
// its users may fill, as df counts).
func fillTo(mnt, file string, frac float64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		return err
	}
	bs := uint64(st.Bsize)
	used, avail := (st.Blocks-st.Bfree)*bs, st.Bavail*bs
	return os.WriteFile(file, make([]byte, uint64(frac*float64(used+avail))-used), 0o644)
}

// alertsOn returns the topic's alerts by id.
func alertsOn(t *testing.T, k config.Kafka, topic string) map[string]*contracts.Alert {
	t.Helper()
	out := map[string]*contracts.Alert{}
	for _, m := range testkit.ReadAll(t, k, topic) {
		var a contracts.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		out[a.ID] = &a
	}
	return out
}

func kind(a *contracts.Alert) string {
	if a.Recovery {
		return a.Rule + "/recovery"
	}
	return a.Rule
}

// alertKinds are the kinds of the topic's distinct alerts, sorted.
func alertKinds(t *testing.T, k config.Kafka, topic string) []string {
	var out []string
	for _, a := range alertsOn(t, k, topic) {
		out = append(out, kind(a))
	}
	sort.Strings(out)
	return out
}

// waitRule waits for an alert of kind (rule or rule/recovery) that ok
// accepts (nil: any).
func waitRule(t *testing.T, k config.Kafka, topic, want string, limit time.Duration, ok func(*contracts.Alert) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		for _, a := range alertsOn(t, k, topic) {
			if kind(a) == want && (ok == nil || ok(a)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s alert within %v: %v", want, limit, alertKinds(t, k, topic))
		}
		time.Sleep(300 * time.Millisecond)
	}
}
