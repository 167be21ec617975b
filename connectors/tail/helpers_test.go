package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig is a fast-polling configuration for files matching dir/ssh-*.log.
func testConfig(dir string) Config {
	return Config{
		Globs:         []string{filepath.Join(dir, "ssh-*.log")},
		RegistryPath:  filepath.Join(dir, "registry.json"),
		FromStart:     true,
		PollInterval:  5 * time.Millisecond,
		FlushTimeout:  150 * time.Millisecond,
		CloseInactive: 100 * time.Millisecond,
		ChunkLines:    64,
	}
}

// harness runs a Tailer in the background.
type harness struct {
	t      *testing.T
	tl     *Tailer
	out    chan *Chunk
	cancel context.CancelFunc
	done   chan error
}

func startTailer(t *testing.T, cfg Config) *harness {
	t.Helper()
	tl, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return runTailer(t, tl)
}

func runTailer(t *testing.T, tl *Tailer) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, tl: tl, out: make(chan *Chunk), cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- tl.Run(ctx, h.out) }()
	t.Cleanup(func() { h.stop() })
	return h
}

// stop cancels Run and waits for it.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	if h.done == nil {
		return nil
	}
	select {
	case err := <-h.done:
		h.done = nil
		return err
	case <-time.After(10 * time.Second):
		h.t.Fatalf("Run did not return after cancel")
		return nil
	}
}

// recv waits for the next chunk (nil on timeout).
func (h *harness) recv(timeout time.Duration) *Chunk {
	select {
	case c := <-h.out:
		return c
	case <-time.After(timeout):
		return nil
	}
}

// mustRecv waits for the next chunk or fails.
func (h *harness) mustRecv() *Chunk {
	h.t.Helper()
	c := h.recv(5 * time.Second)
	if c == nil {
		h.t.Fatalf("no chunk within 5s")
	}
	return c
}

// collector consumes chunks, acknowledges them and counts line texts.
type collector struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
	chunks []*Chunk
	stopc  chan struct{}
	wg     sync.WaitGroup
}

func (h *harness) collect(ack bool) *collector {
	c := &collector{counts: make(map[string]int), stopc: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case ch := <-h.out:
				checkChunk(h.t, ch)
				c.mu.Lock()
				c.chunks = append(c.chunks, ch)
				for _, l := range ch.Lines {
					c.counts[l.Text]++
					c.order = append(c.order, l.Text)
				}
				c.mu.Unlock()
				if ack {
					h.tl.Ack(ch)
				}
			case <-c.stopc:
				return
			}
		}
	}()
	h.t.Cleanup(c.stop)
	return c
}

func (c *collector) stop() {
	select {
	case <-c.stopc:
	default:
		close(c.stopc)
	}
	c.wg.Wait()
}

func (c *collector) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

func (c *collector) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.counts)
}

// checkChunk verifies a chunk's internal consistency.
func checkChunk(t *testing.T, c *Chunk) {
	t.Helper()
	if len(c.Lines) == 0 {
		t.Errorf("empty chunk %s [%d,%d)", c.Path, c.Start, c.End)
		return
	}
	if c.Lines[0].Offset != c.Start || c.End <= c.Start {
		t.Errorf("chunk %s [%d,%d) first line at %d", c.Path, c.Start, c.End, c.Lines[0].Offset)
	}
	if c.File != filepath.Base(c.Path) {
		t.Errorf("chunk File %q for Path %q", c.File, c.Path)
	}
	for i, l := range c.Lines {
		if i > 0 && l.Offset <= c.Lines[i-1].Offset {
			t.Errorf("line offsets not increasing in chunk %s: %d after %d", c.Path, l.Offset, c.Lines[i-1].Offset)
		}
		if strings.ContainsAny(l.Text, "\n") || (!l.Truncated && strings.HasSuffix(l.Text, "\r")) {
			t.Errorf("line %q contains a line terminator", l.Text)
		}
	}
}

// expectEachOnce checks that every want line was received exactly once and
// nothing else was received.
func (c *collector) expectEachOnce(t *testing.T, want []string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	wantSet := make(map[string]bool, len(want))
	var missing, dup []string
	for _, w := range want {
		wantSet[w] = true
		switch n := c.counts[w]; {
		case n == 0:
			missing = append(missing, w)
		case n > 1:
			dup = append(dup, fmt.Sprintf("%s x%d", w, n))
		}
	}
	var extra []string
	for got := range c.counts {
		if !wantSet[got] {
			extra = append(extra, got)
		}
	}
	sort.Strings(extra)
	if len(missing)+len(dup)+len(extra) > 0 {
		t.Fatalf("lines: %d wanted, %d received; missing %d %s; duplicated %d %s; unexpected %d %s",
			len(want), len(c.order), len(missing), head(missing), len(dup), head(dup), len(extra), head(extra))
	}
}

func head(s []string) string {
	if len(s) > 5 {
		s = s[:5]
	}
	return fmt.Sprintf("%q", s)
}

// waitFor polls cond until it is true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// numbered returns lines prefix-000000 .. prefix-(n-1), and their file content.
func numbered(prefix string, from, n int) ([]string, string) {
	var b strings.Builder
	lines := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		l := fmt.Sprintf("%s-%06d sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2", prefix, i)
		lines = append(lines, l)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return lines, b.String()
}

func fileStats(tl *Tailer, path string) (FileStats, int) {
	var fs FileStats
	n := 0
	for _, f := range tl.Stats().Files {
		if f.Path == path {
			fs = f
			n++
		}
	}
	return fs, n
}
