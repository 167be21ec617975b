package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func newTopic(t *testing.T, k config.Kafka, prefix string) string {
	t.Helper()
	name := testkit.UniqueName(prefix)
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), k, []topics.Spec{{Name: name, Partitions: 3}}, logger); err != nil {
		t.Fatal(err)
	}
	return name
}

// writer appends numbered lines for one host to a file.
type writer struct {
	path string
	host string
	f    *os.File
	seq  int
}

func newWriter(t *testing.T, path, host string) *writer {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &writer{path: path, host: host, f: f}
}

func (w *writer) write(t *testing.T, n int) {
	var b strings.Builder
	for i := 0; i < n; i++ {
		w.seq++
		fmt.Fprintf(&b, "Dec 10 06:55:46 %s sshd[%d]: Failed password for invalid user u%d from 10.1.%d.%d port %d ssh2\n",
			w.host, 1000+w.seq%50, w.seq, w.seq%200, w.seq%250, 40000+w.seq%20000)
	}
	if _, err := w.f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// waitPublished waits until the pipeline has committed the file at path
// (the one at that path now) up to its current size.
func waitPublished(t *testing.T, p *ingest.Pipeline, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		for _, f := range p.TailStats().Files {
			if f.Path == path && f.Active && f.AckedOffset == fi.Size() {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not published to byte %d in a minute: %+v", path, fi.Size(), p.TailStats().Files)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotate rotates w's file by rename+create, as logrotate does by default:
// the file moves to to, the writer still writes tail lines into it, then it
// opens a new file at its path.
func (w *writer) rotate(t *testing.T, to string, tail int) error {
	if err := os.Rename(w.path, to); err != nil {
		return err
	}
	w.write(t, tail)
	w.f.Close()
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w.f = f
	return nil
}

// TestIngestRotationAndNewFiles runs the pipeline over three servers' files
// while they are written: one rotated by rename+create, one by copytruncate,
// one appearing later. Every line written arrives in Kafka (distinct row_hash
// per line, every line's user present).
func TestIngestRotationAndNewFiles(t *testing.T) {
	k := testkit.Kafka(t)
	dir := t.TempDir()
	topic := newTopic(t, k, "it-ingest-rotate")
	a := newWriter(t, filepath.Join(dir, "ssh-a.log"), "host-a")
	b := newWriter(t, filepath.Join(dir, "ssh-b.log"), "host-b")
	a.write(t, 3000)
	b.write(t, 3000)

	p, err := ingest.New(ingest.Config{
		Kafka: k,
		Tail: tail.Config{Globs: []string{filepath.Join(dir, "ssh-*.log")},
			FromStart: true, PollInterval: 50 * time.Millisecond, FlushTimeout: 500 * time.Millisecond, CloseInactive: time.Second},
		Topic: topic, Year: 2015, Loc: time.UTC, ProgressEvery: time.Second,
	}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	}()

	// Rotation starts once the tailer has seen both files: a file renamed
	// away before the tailer ever saw it under a globbed path is not read.
	waitPublished(t, p, a.path)
	waitPublished(t, p, b.path)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // rename + create while writing
		defer wg.Done()
		for r := 0; r < 3; r++ {
			a.write(t, 2000)
			time.Sleep(100 * time.Millisecond)
			if err := a.rotate(t, fmt.Sprintf("%s.%d", a.path, r+1), 500); err != nil {
				t.Error(err)
				return
			}
		}
		a.write(t, 1000)
	}()
	for r := 0; r < 3; r++ { // copytruncate: copy away, truncate in place
		b.write(t, 2000)
		waitPublished(t, p, b.path) // logrotate's copytruncate loses lines written between copy and truncate; wait as it cannot
		data, err := os.ReadFile(b.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fmt.Sprintf("%s.%d", b.path, r+1), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(b.path, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.write(t, 1000)
	wg.Wait()
	c := newWriter(t, filepath.Join(dir, "ssh-c.log"), "host-c") // a new server's file
	c.write(t, 2500)
	for _, w := range []*writer{a, b, c} {
		waitPublished(t, p, w.path)
	}
	time.Sleep(2 * time.Second) // rotated files are drained and dropped after CloseInactive
	deadline := time.Now().Add(time.Minute)
	for !p.CaughtUp() {
		if time.Now().After(deadline) {
			t.Fatalf("rotated files not drained: %+v", p.TailStats().Files)
		}
		time.Sleep(50 * time.Millisecond)
	}

	written := map[string]int{"host-a": a.seq, "host-b": b.seq, "host-c": c.seq}
	seen := map[string]map[string]bool{"host-a": {}, "host-b": {}, "host-c": {}}
	hashes := map[string]bool{}
	records := testkit.ReadCommitted(t, k, topic, a.seq+b.seq+c.seq, time.Minute)
	for _, m := range records {
		var ev contracts.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.EventType != contracts.TypeAuthFailure {
			t.Fatalf("event %+v: want auth_failure", ev)
		}
		hashes[ev.RowHash] = true
		seen[ev.HostName][ev.User] = true
	}
	total := 0
	for host, n := range written {
		total += n
		if len(seen[host]) != n {
			t.Errorf("%s: wrote %d lines, %d distinct arrived", host, n, len(seen[host]))
		}
	}
	if len(hashes) != total || len(records) != total {
		t.Errorf("%d records, %d distinct row hashes for %d lines written", len(records), len(hashes), total)
	}
}

// TestIngestBackPressureWhileKafkaUnavailable takes two of the three brokers
// down (acks=all with min.insync.replicas=2 cannot be satisfied) while lines
// keep coming: the tailer stops at its in-flight limit, the registry does not
// advance past what Kafka acknowledged, and when the brokers return every
// line arrives.
func TestIngestBackPressureWhileKafkaUnavailable(t *testing.T) {
	k := testkit.Kafka(t)
	st := testkit.Stack(t)
	dir := t.TempDir()
	topic := newTopic(t, k, "it-ingest-down")
	w := newWriter(t, filepath.Join(dir, "ssh-a.log"), "host-a")
	w.write(t, 5000)
	const maxInflight, chunkLines = 4, 500
	p, err := ingest.New(ingest.Config{
		Kafka: k,
		Tail: tail.Config{Globs: []string{filepath.Join(dir, "ssh-*.log")},
			FromStart: true, PollInterval: 50 * time.Millisecond, MaxInflight: maxInflight, ChunkLines: chunkLines},
		Topic: topic, Year: 2015, Loc: time.UTC, ProgressEvery: time.Second,
	}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	}()
	waitFor := func(what string, limit time.Duration, ok func(tail.FileStats) bool) tail.FileStats {
		deadline := time.Now().Add(limit)
		for {
			if fs := p.TailStats().Files; len(fs) == 1 && ok(fs[0]) {
				return fs[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v: %+v", what, limit, p.TailStats())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	fi, _ := os.Stat(w.path)
	waitFor("first 5000 lines published", time.Minute, func(f tail.FileStats) bool { return f.AckedOffset == fi.Size() })
	acked := fi.Size()

	restart := testkit.KillBrokers(t, st, 1, 2)
	w.write(t, 20000)
	time.Sleep(5 * time.Second)
	f := waitFor("reading stops at the in-flight limit", time.Minute, func(f tail.FileStats) bool { return f.Inflight == maxInflight })
	time.Sleep(2 * time.Second)
	f2 := p.TailStats().Files[0]
	t.Logf("Kafka down: acked %d, read %d of %d bytes, %d chunks in flight", f2.AckedOffset, f2.ReadOffset, f2.Size, f2.Inflight)
	if f2.AckedOffset != acked || f2.ReadOffset != f.ReadOffset || f2.Inflight > maxInflight {
		t.Fatalf("while Kafka was down the tailer moved: before %+v, after %+v (acked before the outage %d)", f, f2, acked)
	}
	if f2.ReadOffset-f2.AckedOffset > int64(maxInflight*tail.DefaultChunkBytes) {
		t.Fatalf("%d bytes read and not acknowledged: more than the in-flight bound", f2.ReadOffset-f2.AckedOffset)
	}

	restart()
	fi, _ = os.Stat(w.path)
	waitFor("every line published after the brokers returned", 3*time.Minute, func(f tail.FileStats) bool { return f.AckedOffset == fi.Size() })
	users := map[string]bool{}
	records := testkit.ReadCommitted(t, k, topic, w.seq, time.Minute)
	for _, m := range records {
		var ev contracts.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		users[ev.User] = true
	}
	if len(users) != w.seq || len(records) != w.seq {
		t.Fatalf("%d records, %d distinct lines arrived, %d written", len(records), len(users), w.seq)
	}
}
