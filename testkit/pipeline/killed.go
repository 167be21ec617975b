package pipeline

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

// PublishKilled publishes file to the run's input with `logmon ingest`
// (bin), SIGKILLed at kills random points and restarted each time, then
// run to the end. It fails the test unless a read_committed reader then
// sees every line of the file exactly once (each row_hash once, nothing
// else), which is what the exactly-once ingest promises.
func (r *Run) PublishKilled(t testing.TB, bin, file string, kills int) {
	t.Helper()
	want := map[string]bool{}
	for _, h := range RowHashes(t, file) {
		want[h] = true
	}
	total := int64(len(want))
	args := []string{"ingest", "-once", "-from-start", "-globs", file, "-year", "2015", "-source-tz", "Asia/Seoul",
		"-topic", r.Input, "-ingest-id", r.Group + "-ingest", "-metrics-addr", "", "-log-level", "warn"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	for i := 0; i < kills; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A random point within the next stretch of the file (the topic's
		// size counts transaction markers too, a few per thousand records).
		from := r.inputSize(t)
		target := from + int64(float64(total-from)*(0.1+0.5*rng.Float64())/float64(kills-i))
		deadline := time.Now().Add(3 * time.Minute)
		for r.inputSize(t) < target {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("kill %d: the input did not reach %d records in 3 minutes", i+1, target)
			}
			time.Sleep(time.Duration(20+rng.IntN(30)) * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: logmon ingest had already exited (%v): see its log above", i+1, cmd.ProcessState)
		}
		t.Logf("ingest kill %d: SIGKILL with %d of %d records in the topic", i+1, r.inputSize(t), total)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("last ingest run: %v", err)
		}
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("last ingest run did not finish in 5 minutes")
	}
	ExpectEachOnce(t, r, want)
}

// ExpectEachOnce fails the test unless the run's input holds each of want
// exactly once and nothing else, as a read_committed reader sees it.
func ExpectEachOnce(t testing.TB, r *Run, want map[string]bool) {
	t.Helper()
	got := map[string]int{}
	records := testkit.ReadAll(t, r.K, r.Input)
	for _, m := range records {
		got[string(m.Key)]++
	}
	var missing, extra, doubled int
	for h := range want {
		if got[h] == 0 {
			missing++
		}
	}
	for h, n := range got {
		if !want[h] {
			extra++
		}
		if n > 1 {
			doubled++
		}
	}
	t.Logf("input: %d records, %d distinct, %d lines in the file", len(records), len(got), len(want))
	if missing > 0 || extra > 0 || doubled > 0 || len(records) != len(want) {
		t.Fatalf("not exactly once: %d records for %d lines; %d missing, %d unexpected, %d more than once",
			len(records), len(want), missing, extra, doubled)
	}
}

// inputSize is the number of offsets of the run's input below its last
// stable offsets.
func (r *Run) inputSize(t testing.TB) int64 {
	t.Helper()
	s, err := topics.Sizes(testkit.Context(t, time.Minute), r.K, []string{r.Input})
	if err != nil {
		t.Fatal(err)
	}
	return s[0].Records
}

// RowHashes returns the row_hash of every line of path, in file order, as
// the parser computes it for a file read from its beginning.
func RowHashes(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var out []string
	var off int64
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			out = append(out, sshlog.RowHash(path, off, line))
			off += int64(len(line))
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
