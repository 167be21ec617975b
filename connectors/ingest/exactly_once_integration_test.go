package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/publish"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
)

// lineCounts returns, per host, how many records of each user (each line
// written has its own user) the topic holds, as a read_committed reader sees
// it.
func lineCounts(t *testing.T, k config.Kafka, topic string, want int) (map[string]map[string]int, int) {
	t.Helper()
	out := map[string]map[string]int{}
	records := testkit.ReadCommitted(t, k, topic, want, time.Minute)
	for _, m := range records {
		var ev contracts.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if out[ev.HostName] == nil {
			out[ev.HostName] = map[string]int{}
		}
		out[ev.HostName][ev.User]++
	}
	return out, len(records)
}

// expectEachLineOnce fails unless every line the writers wrote is in the
// topic exactly once and nothing else is.
func expectEachLineOnce(t *testing.T, k config.Kafka, topic string, ws ...*writer) {
	t.Helper()
	total := 0
	for _, w := range ws {
		total += w.seq
	}
	got, n := lineCounts(t, k, topic, total)
	for _, w := range ws {
		missing, doubled := 0, 0
		for i := 1; i <= w.seq; i++ {
			switch c := got[w.host][fmt.Sprintf("u%d", i)]; {
			case c == 0:
				missing++
			case c > 1:
				doubled++
			}
		}
		if missing > 0 || doubled > 0 {
			t.Errorf("%s: %d lines written, %d missing, %d more than once", w.host, w.seq, missing, doubled)
		}
	}
	t.Logf("%d records for %d lines written", n, total)
	if n != total {
		t.Errorf("%d records for %d lines written", n, total)
	}
	// The per-host activity went in the same transactions: its failures
	// add up to the lines (each a failed password), exactly. (Its commit
	// markers may land a moment after ssh-log's: read until they agree.)
	var failed map[string]int64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		failed = activityFailures(t, k, contracts.HostActivityTopic(topic))
		agree := true
		for _, w := range ws {
			agree = agree && failed[w.host] == int64(w.seq)
		}
		if agree || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range ws {
		if failed[w.host] != int64(w.seq) {
			t.Errorf("%s: activity counts %d failures for %d lines written", w.host, failed[w.host], w.seq)
		}
	}
}

// activityFailures sums the failures of the host activity topic, by host.
func activityFailures(t *testing.T, k config.Kafka, topic string) map[string]int64 {
	t.Helper()
	failed := map[string]int64{}
	for _, m := range testkit.ReadAll(t, k, topic) {
		var a contracts.HostActivity
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != a.HostName {
			t.Errorf("activity of %s under key %q", a.HostName, m.Key)
		}
		for _, min := range a.Minutes {
			failed[a.HostName] += min.Failed
		}
	}
	return failed
}

// TestIngestKillsDuringRotation writes two servers' files while `logmon
// ingest` is SIGKILLed at three random moments and restarted, one file
// rotated by rename+create several times meanwhile (also while the tailer
// is dead): every line is in ssh-log exactly once. The globs take the
// rotated names too (ssh-*.log*): a file created and rotated away while the
// tailer is dead is otherwise never seen (true of every tailer).
func TestIngestKillsDuringRotation(t *testing.T) {
	k := testkit.Kafka(t)
	bin := testkit.BuildLogmon(t)
	dir := t.TempDir()
	topic := newTopic(t, k, "it-ingest-kill-rotate")
	a := newWriter(t, filepath.Join(dir, "ssh-a.log"), "host-a")
	b := newWriter(t, filepath.Join(dir, "ssh-b.log"), "host-b")
	args := []string{"ingest", "-from-start", "-globs", filepath.Join(dir, "ssh-*.log*"), "-year", "2015", "-source-tz", "UTC",
		"-topic", topic, "-ingest-id", topic, "-metrics-addr", "", "-log-level", "warn"}

	ctx, stopWriting := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var rotations atomic.Int32
	wg.Add(1)
	go func() { // 400 lines every 20 ms into each file; a is rotated every 1.5 s
		defer wg.Done()
		last := time.Now()
		for ctx.Err() == nil {
			a.write(t, 400)
			b.write(t, 400)
			if time.Since(last) > 1500*time.Millisecond {
				n := rotations.Add(1)
				if err := a.rotate(t, fmt.Sprintf("%s.%d", a.path, n), 100); err != nil {
					t.Error(err)
					return
				}
				last = time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < 3; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(2000+rng.IntN(3000)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: logmon ingest had already exited (%v): see its log above", i+1, cmd.ProcessState)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond) // lines and rotations while it is dead
		t.Logf("kill %d: %d+%d lines written, %d rotations", i+1, a.seq, b.seq, rotations.Load())
	}
	stopWriting()
	wg.Wait()
	if rotations.Load() < 3 {
		t.Fatalf("only %d rotations during the kills", rotations.Load())
	}
	// The last run reads every file to its end (rotated ones included) and exits.
	final := exec.Command(bin, append(args, "-once")...)
	final.Stdout, final.Stderr = os.Stderr, os.Stderr
	if err := final.Run(); err != nil {
		t.Fatalf("last ingest run: %v", err)
	}
	expectEachLineOnce(t, k, topic, a, b)
}

// pipelineFor is an in-process ingest of dir's ssh-*.log files into topic
// under the instance identity id.
func pipelineFor(t *testing.T, k config.Kafka, dir, topic, id string, once bool) *ingest.Pipeline {
	t.Helper()
	p, err := ingest.New(ingest.Config{Kafka: k, ID: id, Topic: topic, Year: 2015, Loc: time.UTC, Once: once, ProgressEvery: time.Second,
		Tail: tail.Config{Globs: []string{filepath.Join(dir, "ssh-*.log")}, FromStart: true, PollInterval: 50 * time.Millisecond}}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIngestSameIDTakesOver starts a second instance with the first one's
// identity while lines keep coming: the first stops with ErrFenced, the
// second carries on, and every line is in the topic once. Two instances
// with different identities on different files both publish.
func TestIngestSameIDTakesOver(t *testing.T) {
	k := testkit.Kafka(t)
	dir := t.TempDir()
	topic := newTopic(t, k, "it-ingest-fence")
	w := newWriter(t, filepath.Join(dir, "ssh-a.log"), "host-a")
	w.write(t, 2000)
	id := topic + "-same"

	first := pipelineFor(t, k, dir, topic, id, false)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(context.Background()) }()
	waitPublished(t, first, w.path)

	ctx, cancel := context.WithCancel(context.Background())
	second := pipelineFor(t, k, dir, topic, id, false)
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Run(ctx) }()
	for i := 0; i < 20; i++ { // lines keep coming while the second starts
		w.write(t, 300)
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-firstDone:
		if !errors.Is(err, publish.ErrFenced) {
			t.Fatalf("first instance ended with %v, want ErrFenced", err)
		}
		t.Logf("first instance: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the first instance was not fenced within a minute of the second's start")
	}
	waitPublished(t, second, w.path)
	cancel()
	if err := <-secondDone; err != nil {
		t.Fatalf("second instance: %v", err)
	}
	expectEachLineOnce(t, k, topic, w)

	// Different identities, different files, one topic: both publish.
	topic2 := newTopic(t, k, "it-ingest-two-ids")
	var ws []*writer
	var stops []func()
	for _, host := range []string{"host-b", "host-c"} {
		d := filepath.Join(dir, host)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		hw := newWriter(t, filepath.Join(d, "ssh-x.log"), host)
		hw.write(t, 3000)
		p := pipelineFor(t, k, d, topic2, topic2+"-"+host, true)
		ws = append(ws, hw)
		stops = append(stops, func() {
			if err := p.Run(testkit.Context(t, 2*time.Minute)); err != nil {
				t.Errorf("%s: %v", host, err)
			}
		})
	}
	var wg sync.WaitGroup
	for _, run := range stops {
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	wg.Wait()
	expectEachLineOnce(t, k, topic2, ws...)
}

// TestIngestBrokerKilledMidTransaction SIGKILLs a broker while transactions
// are being committed: nothing is lost, nothing doubled.
func TestIngestBrokerKilledMidTransaction(t *testing.T) {
	k := testkit.Kafka(t)
	st := testkit.Stack(t)
	dir := t.TempDir()
	topic := newTopic(t, k, "it-ingest-broker-kill")
	w := newWriter(t, filepath.Join(dir, "ssh-a.log"), "host-a")
	w.write(t, 300000)
	p := pipelineFor(t, k, dir, topic, topic, true)
	done := make(chan error, 1)
	go func() { done <- p.Run(testkit.Context(t, 5*time.Minute)) }()

	fi, _ := os.Stat(w.path)
	for {
		if fs := p.TailStats().Files; len(fs) == 1 && fs[0].AckedOffset > fi.Size()/4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := st.KillKafka(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = st.StartKafka(1)
		}
	}()
	atKill := p.TailStats().Files[0]
	t.Logf("broker 1 killed with %+v", atKill)
	if atKill.AckedOffset >= fi.Size() {
		t.Fatal("the kill came after the last commit: it proves nothing (write more lines)")
	}
	if err := <-done; err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if err := st.StartKafka(1); err != nil {
		t.Fatal(err)
	}
	restarted = true
	if err := st.WaitKafka(testkit.Context(t, 2*time.Minute), 3); err != nil {
		t.Fatal(err)
	}
	expectEachLineOnce(t, k, topic, w)
}
