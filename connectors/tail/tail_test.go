package tail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLinesCRLFAndOffsets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	content := "a\r\nbb\n\r\n\nccc\r\n"
	writeFile(t, path, content)
	h := startTailer(t, testConfig(dir))
	c := h.mustRecv()
	want := []Line{{0, "a", false}, {3, "bb", false}, {6, "", false}, {8, "", false}, {9, "ccc", false}}
	if fmt.Sprint(c.Lines) != fmt.Sprint(want) {
		t.Fatalf("lines %+v, want %+v", c.Lines, want)
	}
	if c.Data != content || c.Start != 0 || c.End != int64(len(content)) || c.Path != path || c.File != "ssh-a.log" {
		t.Fatalf("chunk %+v", c)
	}
	if c.Key.Ino == 0 || c.Key.FingerprintLen != len(content) || c.Key.Fingerprint != fingerprint([]byte(content)) {
		t.Fatalf("key %+v", c.Key)
	}
}

// (a) rename rotation (logrotate's default) while a writer appends, several
// times, with the writer writing a few more lines into the renamed file.
func TestRenameRotationWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	writeFile(t, path, "")
	cfg := testConfig(dir)
	cfg.CloseInactive = 400 * time.Millisecond
	h := startTailer(t, cfg)
	col := h.collect(true)

	const total, every, late = 30000, 6000, 25
	want, _ := numbered("rot", 0, total)
	werr := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			werr <- err
			return
		}
		rot := 0
		for i := 0; i < total; i++ {
			if i > 0 && i%every == 0 {
				rot++
				if err := os.Rename(path, fmt.Sprintf("%s.%d", path, rot)); err != nil {
					werr <- err
					return
				}
				// The daemon writes a little more into the renamed file
				// before it reopens its log — after the tailer has read the
				// renamed file to its end, within CloseInactive.
				time.Sleep(40 * time.Millisecond)
				for k := 0; k < late && i < total; k, i = k+1, i+1 {
					if _, err := f.WriteString(want[i] + "\n"); err != nil {
						werr <- err
						return
					}
				}
				f.Close()
				if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
					werr <- err
					return
				}
			}
			if _, err := f.WriteString(want[i] + "\n"); err != nil {
				werr <- err
				return
			}
			if i%300 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		werr <- f.Close()
	}()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "all lines", func() bool { return col.distinct() == total })
	time.Sleep(3 * cfg.FlushTimeout)
	col.expectEachOnce(t, want)

	// The renamed files are drained, acknowledged and dropped; the registry
	// keeps only the current file, acknowledged to its end.
	waitFor(t, 5*time.Second, "rotated files dropped", func() bool { return len(h.tl.Stats().Files) == 1 })
	st := h.tl.Stats()
	if st.Rotations < 4 || !st.Files[0].Active || st.Files[0].Lag != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	reg, err := loadRegistry(cfg.RegistryPath)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if len(reg) != 1 || reg[0].Path != path || reg[0].Offset != fi.Size() {
		t.Fatalf("registry %+v, file size %d", reg, fi.Size())
	}
}

// (b) copytruncate while writing: the tailer catches up, the file is copied
// and truncated in place, the writer (O_APPEND) goes on.
func TestCopyTruncateWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	writeFile(t, path, "")
	cfg := testConfig(dir)
	h := startTailer(t, cfg)
	col := h.collect(true)

	const rounds, per = 5, 4000
	want, _ := numbered("ct", 0, rounds*per)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		for r := 0; r < rounds; r++ {
			for i := r * per; i < (r+1)*per; i++ {
				if _, werr = f.WriteString(want[i] + "\n"); werr != nil {
					return
				}
				if i%500 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			if r == rounds-1 {
				return
			}
			// copytruncate: lines written between the copy and the
			// truncation and not yet read are lost by design, so wait
			// until the tailer has read everything.
			deadline := time.Now().Add(10 * time.Second)
			for col.total() < (r+1)*per && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			data, err := os.ReadFile(path)
			if err == nil {
				err = os.WriteFile(fmt.Sprintf("%s.%d", path, r+1), data, 0o644)
			}
			if err == nil {
				err = os.Truncate(path, 0)
			}
			if err != nil {
				werr = err
				return
			}
		}
	}()
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	waitFor(t, 20*time.Second, "all lines", func() bool { return col.distinct() == len(want) })
	time.Sleep(3 * cfg.FlushTimeout)
	col.expectEachOnce(t, want)
	st := h.tl.Stats()
	if st.Truncations != rounds-1 || len(st.Files) != 1 || st.Files[0].Lag != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A file cut short but keeping its first bytes (so only the size tells) is
// read again from 0: the kept lines come again with the same offsets (the
// same ids downstream), the lines appended after the cut are not missed.
func TestTruncateKeepingPrefix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	old, content := numbered("k", 0, 100)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	h := startTailer(t, cfg)
	col := h.collect(true)
	waitFor(t, 5*time.Second, "lines", func() bool { return col.total() == 100 })
	keep := int64(strings.Index(content, old[50]))
	if err := os.Truncate(path, keep); err != nil {
		t.Fatal(err)
	}
	added, more := numbered("added", 0, 10) // shorter than what was cut
	appendFile(t, path, more)
	waitFor(t, 5*time.Second, "lines", func() bool { return col.total() >= 160 })
	time.Sleep(3 * cfg.FlushTimeout)
	col.mu.Lock()
	defer col.mu.Unlock()
	for i, l := range old {
		if want := 1 + btoi(i < 50); col.counts[l] != want {
			t.Fatalf("%s received %d times, want %d", l, col.counts[l], want)
		}
	}
	for _, l := range added {
		if col.counts[l] != 1 {
			t.Fatalf("%s received %d times", l, col.counts[l])
		}
	}
	// The kept lines were re-sent with their original offsets.
	offsets := make(map[string][]int64)
	for _, c := range col.chunks {
		for _, l := range c.Lines {
			offsets[l.Text] = append(offsets[l.Text], l.Offset)
		}
	}
	for _, l := range old[:50] {
		if o := offsets[l]; len(o) != 2 || o[0] != o[1] {
			t.Fatalf("%s offsets %v", l, o)
		}
	}
	if st := h.tl.Stats(); st.Truncations != 1 {
		t.Fatalf("truncations %d", st.Truncations)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A file truncated and refilled beyond its old size between two polls is
// noticed by its fingerprint and read again from the beginning.
func TestRewriteBetweenPollsDetectedByFingerprint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	first, content1 := numbered("old", 0, 100)
	writeFile(t, path, content1)
	cfg := testConfig(dir)
	cfg.PollInterval = 400 * time.Millisecond
	h := startTailer(t, cfg)
	col := h.collect(true)
	waitFor(t, 5*time.Second, "first content", func() bool { return col.total() == len(first) })
	// Truncate and write more than before in one go, well between polls.
	second, content2 := numbered("new", 0, 300)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitFor(t, 5*time.Second, "second content", func() bool { return col.total() >= len(first)+len(second) })
	time.Sleep(2 * cfg.PollInterval)
	col.expectEachOnce(t, append(first, second...))
	if st := h.tl.Stats(); st.Truncations != 1 {
		t.Fatalf("truncations %d", st.Truncations)
	}
}

// (c) files appearing after start-up are read from their beginning; with
// FromStart=false existing files start after their last complete line.
func TestFilesAppearingLater(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "ssh-a.log")
	_, old := numbered("old", 0, 10)
	writeFile(t, a, old+"partial-")
	cfg := testConfig(dir)
	cfg.FromStart = false
	cfg.FlushTimeout = time.Second // "partial-" must not be flushed before it is completed
	cfg.Globs = append(cfg.Globs, filepath.Join(other, "*.log"))
	h := startTailer(t, cfg)
	col := h.collect(true)
	time.Sleep(10 * cfg.PollInterval)

	b := filepath.Join(dir, "ssh-b.log")
	wantB, contentB := numbered("b", 0, 500)
	writeFile(t, b, contentB)
	c := filepath.Join(other, "x.log")
	wantC, contentC := numbered("c", 0, 50)
	writeFile(t, c, contentC)
	wantA, moreA := numbered("a", 0, 5)
	appendFile(t, a, "done\n"+moreA)
	writeFile(t, filepath.Join(dir, "ignored.txt"), "not matched\n")

	want := append(append(append([]string{"partial-done"}, wantA...), wantB...), wantC...)
	waitFor(t, 5*time.Second, "all lines", func() bool { return col.total() >= len(want) })
	time.Sleep(3 * cfg.FlushTimeout)
	col.expectEachOnce(t, want)
}

// (d) restart: only the chunks after the acknowledged prefix are sent again,
// with the same offsets and bytes.
func TestRestartResendsOnlyUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	all, content := numbered("r", 0, 100)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	cfg.ChunkLines = 10
	cfg.MaxInflight = 100

	h := startTailer(t, cfg)
	var first []*Chunk
	for len(first) < 10 {
		first = append(first, h.mustRecv())
	}
	for _, i := range []int{0, 1, 2, 4, 6, 8} { // 3 is missing: the prefix ends after 2
		h.tl.Ack(first[i])
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	h2 := startTailer(t, cfg)
	var second []*Chunk
	for len(second) < 7 {
		second = append(second, h2.mustRecv())
	}
	if c := h2.recv(5 * cfg.FlushTimeout); c != nil {
		t.Fatalf("unexpected extra chunk [%d,%d)", c.Start, c.End)
	}
	for k, c := range second {
		o := first[3+k]
		if c.Start != o.Start || c.End != o.End || c.Data != o.Data || c.Key != o.Key || c.Path != o.Path {
			t.Fatalf("re-sent chunk %d: [%d,%d) want [%d,%d)", k, c.Start, c.End, o.Start, o.End)
		}
		for i, l := range c.Lines {
			if l != o.Lines[i] {
				t.Fatalf("re-sent line %+v, want %+v", l, o.Lines[i])
			}
		}
	}
	if got := second[0].Lines[0].Text; got != all[30] {
		t.Fatalf("resumed at %q, want %q", got, all[30])
	}
}

// (e) out-of-order acknowledgements advance only the contiguous prefix.
func TestOutOfOrderAcks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	_, content := numbered("o", 0, 50)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	cfg.ChunkLines = 10
	h := startTailer(t, cfg)
	var cs []*Chunk
	for len(cs) < 5 {
		cs = append(cs, h.mustRecv())
	}
	acked := func() int64 {
		fs, _ := fileStats(h.tl, path)
		return fs.AckedOffset
	}
	steps := []struct {
		ack  int
		want int64
	}{
		{1, 0}, {2, 0}, {2, 0}, {0, cs[2].End}, {4, cs[2].End}, {3, cs[4].End},
	}
	for _, s := range steps {
		h.tl.Ack(cs[s.ack])
		if got := acked(); got != s.want {
			t.Fatalf("after ack %d: acked %d, want %d", s.ack, got, s.want)
		}
	}
	fs, _ := fileStats(h.tl, path)
	if fs.Inflight != 0 || h.tl.Stats().Inflight != 0 || fs.AckedOffset != int64(len(content)) || fs.Lag != 0 {
		t.Fatalf("stats %+v", fs)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	reg, err := loadRegistry(cfg.RegistryPath)
	if err != nil || len(reg) != 1 || reg[0].Offset != int64(len(content)) {
		t.Fatalf("registry %+v %v", reg, err)
	}
}

// (f) an unterminated final line is emitted once, only after FlushTimeout;
// bytes appended after that start the next line.
func TestFlushTimeoutFinalLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	writeFile(t, path, "a\nb\npart")
	cfg := testConfig(dir)
	cfg.FlushTimeout = 300 * time.Millisecond
	h := startTailer(t, cfg)
	written := time.Now()
	c := h.mustRecv()
	if len(c.Lines) != 2 || c.End != 4 {
		t.Fatalf("first chunk %+v", c.Lines)
	}
	h.tl.Ack(c)
	c = h.mustRecv()
	if waited := time.Since(written); waited < cfg.FlushTimeout {
		t.Fatalf("partial line emitted after %v, before FlushTimeout", waited)
	}
	if len(c.Lines) != 1 || c.Lines[0] != (Line{Offset: 4, Text: "part"}) || c.End != 8 {
		t.Fatalf("flushed chunk %+v [%d,%d)", c.Lines, c.Start, c.End)
	}
	h.tl.Ack(c)

	// The rest of the line arrives later: it is a line of its own.
	appendFile(t, path, "ial\n")
	c = h.mustRecv()
	if len(c.Lines) != 1 || c.Lines[0] != (Line{Offset: 8, Text: "ial"}) {
		t.Fatalf("continuation %+v", c.Lines)
	}
	h.tl.Ack(c)

	// A line that keeps growing, each piece within FlushTimeout of the last,
	// is not flushed early.
	for i := 0; i < 6; i++ {
		appendFile(t, path, "x")
		if c := h.recv(cfg.FlushTimeout / 3); c != nil {
			t.Fatalf("half line emitted while growing: %+v", c.Lines)
		}
	}
	appendFile(t, path, "\r\n")
	c = h.mustRecv()
	if len(c.Lines) != 1 || c.Lines[0] != (Line{Offset: 12, Text: "xxxxxx"}) {
		t.Fatalf("slow line %+v", c.Lines)
	}
	h.tl.Ack(c)
	if c := h.recv(3 * cfg.FlushTimeout); c != nil {
		t.Fatalf("unexpected chunk %+v", c.Lines)
	}
	fs, _ := fileStats(h.tl, path)
	if fs.AckedOffset != 20 || fs.Size != 20 {
		t.Fatalf("stats %+v", fs)
	}
}

// (g) oversized and binary lines are cut to MaxLineBytes, marked, never split.
func TestOversizedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	const max = 100
	binary := make([]byte, 300)
	for i := range binary {
		binary[i] = byte(i*7) | 1 // no '\n' (10 is even), NUL-free but not UTF-8
	}
	binary[5] = 0
	utf := "a" + strings.Repeat("é", 60)
	huge := strings.Repeat("q", 1<<20) // larger than the read buffer
	type L struct {
		raw   string
		text  string
		trunc bool
	}
	lines := []L{
		{"short1\n", "short1", false},
		{strings.Repeat("x", 1000) + "\n", strings.Repeat("x", max), true},
		{"short2\r\n", "short2", false},
		{strings.Repeat("y", max) + "\r\n", strings.Repeat("y", max), false},
		{strings.Repeat("z", max+1) + "\r\n", strings.Repeat("z", max), true},
		{utf + "\n", utf[:99], true},
		{string(binary) + "\n", string(binary[:max]), true},
		{huge + "\n", huge[:max], true},
		{"short3\n", "short3", false},
	}
	var content strings.Builder
	for _, l := range lines {
		content.WriteString(l.raw)
	}
	writeFile(t, path, content.String())
	cfg := testConfig(dir)
	cfg.MaxLineBytes = max
	h := startTailer(t, cfg)
	var got []Line
	end := int64(0)
	for len(got) < len(lines) {
		c := h.mustRecv()
		checkChunk(t, c)
		if c.Start != end {
			t.Fatalf("chunk starts at %d, previous ended at %d", c.Start, end)
		}
		end = c.End
		got = append(got, c.Lines...)
		h.tl.Ack(c)
	}
	off := int64(0)
	for i, l := range lines {
		g := got[i]
		if g.Offset != off || g.Text != l.text || g.Truncated != l.trunc {
			t.Fatalf("line %d: got {%d %.20q.. len %d %v}, want {%d %.20q.. len %d %v}",
				i, g.Offset, g.Text, len(g.Text), g.Truncated, off, l.text, len(l.text), l.trunc)
		}
		off += int64(len(l.raw))
	}
	if !utf8.ValidString(got[5].Text) {
		t.Fatalf("cut inside a rune: %q", got[5].Text)
	}
	if end != off {
		t.Fatalf("chunks end at %d, file size %d", end, off)
	}

	// An oversized line that arrives in pieces, across polls.
	appendFile(t, path, strings.Repeat("w", 500))
	time.Sleep(10 * cfg.PollInterval)
	appendFile(t, path, strings.Repeat("w", 500))
	time.Sleep(10 * cfg.PollInterval)
	appendFile(t, path, "w\nnext\n")
	var more []Line
	for len(more) < 2 {
		c := h.mustRecv()
		more = append(more, c.Lines...)
		h.tl.Ack(c)
	}
	if more[0] != (Line{Offset: off, Text: strings.Repeat("w", max), Truncated: true}) ||
		more[1] != (Line{Offset: off + 1002, Text: "next"}) {
		t.Fatalf("pieces: %.40v", more)
	}

	// An oversized unterminated line is flushed once, truncated.
	appendFile(t, path, strings.Repeat("v", 400))
	c := h.mustRecv()
	if len(c.Lines) != 1 || c.Lines[0] != (Line{Offset: off + 1007, Text: strings.Repeat("v", max), Truncated: true}) || c.End != off+1407 {
		t.Fatalf("flushed oversized %.40v [%d,%d)", c.Lines, c.Start, c.End)
	}
}

// (h) at most MaxInflight chunks are outstanding; reading waits for acks.
func TestMaxInflightBlocksReading(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	_, content := numbered("m", 0, 10)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	cfg.ChunkLines = 1
	cfg.MaxInflight = 2
	h := startTailer(t, cfg)
	c0, c1 := h.mustRecv(), h.mustRecv()
	if c := h.recv(300 * time.Millisecond); c != nil {
		t.Fatalf("third chunk handed out with 2 unacknowledged")
	}
	fs, _ := fileStats(h.tl, path)
	if fs.ReadOffset != c1.End || fs.Inflight != 2 || h.tl.Stats().Inflight != 2 {
		t.Fatalf("stats %+v", fs)
	}
	h.tl.Ack(c1) // out of order: frees a slot, registry stays at 0
	c2 := h.mustRecv()
	if c := h.recv(200 * time.Millisecond); c != nil {
		t.Fatalf("chunk handed out beyond MaxInflight")
	}
	if fs, _ := fileStats(h.tl, path); fs.AckedOffset != 0 {
		t.Fatalf("acked %d", fs.AckedOffset)
	}
	h.tl.Ack(c0)
	h.tl.Ack(c2)
	for i := 3; i < 10; i++ {
		c := h.mustRecv()
		if c.Lines[0].Offset != c.Start || c.Start != c2.End+int64(i-3)*(c2.End-c2.Start) {
			t.Fatalf("chunk %d at %d", i, c.Start)
		}
		h.tl.Ack(c)
	}
	waitFor(t, time.Second, "all acked", func() bool {
		fs, _ := fileStats(h.tl, path)
		return fs.AckedOffset == int64(len(content))
	})
}

// Cancelling while Run waits for an in-flight slot or for the receiver
// returns promptly, and nothing is left running.
func TestCancelWhileBlockedNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, receive := range []bool{false, true} {
		dir := t.TempDir()
		_, content := numbered("g", 0, 1000)
		writeFile(t, filepath.Join(dir, "ssh-a.log"), content)
		writeFile(t, filepath.Join(dir, "ssh-b.log"), content)
		cfg := testConfig(dir)
		cfg.ChunkLines = 10
		cfg.MaxInflight = 3
		tl, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan *Chunk)
		done := make(chan error, 1)
		go func() { done <- tl.Run(ctx, out) }()
		if receive { // fill the in-flight window: Run blocks on the slot
			for i := 0; i < 3; i++ {
				<-out
			}
		} // else Run blocks on the send
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return")
		}
		if err := tl.Run(context.Background(), out); err == nil {
			t.Fatal("second Run accepted")
		}
	}
	waitFor(t, 5*time.Second, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

// A deleted file is read to its end, then dropped from the registry once
// acknowledged.
func TestDeletedFileDrainedAndDropped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	keep := filepath.Join(dir, "ssh-b.log")
	wantA, content := numbered("d", 0, 2000)
	writeFile(t, path, content)
	writeFile(t, keep, "keep\n")
	cfg := testConfig(dir)
	cfg.MaxInflight = 1
	cfg.ChunkLines = 100
	h := startTailer(t, cfg)
	c := h.mustRecv() // Run now waits for an ack; delete the file meanwhile
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * cfg.PollInterval)
	h.tl.Ack(c)
	col := h.collect(true)
	waitFor(t, 5*time.Second, "lines", func() bool { return col.total()+len(c.Lines) >= len(wantA)+1 })
	waitFor(t, 5*time.Second, "deleted file dropped", func() bool {
		_, n := fileStats(h.tl, path)
		return n == 0
	})
	col.mu.Lock() // the first chunk was consumed by hand
	for _, l := range c.Lines {
		col.counts[l.Text]++
	}
	col.mu.Unlock()
	col.expectEachOnce(t, append(wantA, "keep"))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	reg, err := loadRegistry(cfg.RegistryPath)
	if err != nil || len(reg) != 1 || reg[0].Path != keep {
		t.Fatalf("registry %+v %v", reg, err)
	}
}

// A file rewritten in place while the tailer was stopped (same inode, other
// first bytes — like an inode reused by a new file) is read from 0.
func TestRestartFingerprintMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	_, content := numbered("one", 0, 50)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	h := startTailer(t, cfg)
	col := h.collect(true)
	waitFor(t, 5*time.Second, "lines", func() bool { return col.total() == 50 })
	time.Sleep(20 * time.Millisecond)
	col.stop()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	fi1, _ := os.Stat(path)

	want, content2 := numbered("two", 0, 80) // longer, same inode
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(content2)
	f.Close()
	fi2, _ := os.Stat(path)
	if !os.SameFile(fi1, fi2) {
		t.Fatal("expected the same inode")
	}
	h2 := startTailer(t, cfg)
	col2 := h2.collect(true)
	waitFor(t, 5*time.Second, "lines", func() bool { return col2.total() >= 80 })
	time.Sleep(3 * cfg.FlushTimeout)
	col2.expectEachOnce(t, want)
}

// A file rotated (renamed out of the glob) while the tailer was stopped is
// found in its directory and read to its end, under its original path.
func TestRotatedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	_, content := numbered("s", 0, 100)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	cfg.ChunkLines = 10
	cfg.MaxInflight = 100
	h := startTailer(t, cfg)
	var cs []*Chunk
	for len(cs) < 10 {
		cs = append(cs, h.mustRecv())
	}
	for _, c := range cs[:4] {
		h.tl.Ack(c)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	// While stopped: more lines, then logrotate, then a new file.
	moreOld, more := numbered("s", 100, 20)
	appendFile(t, path, more)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	wantNew, contentNew := numbered("n", 0, 30)
	writeFile(t, path, contentNew)

	h2 := startTailer(t, cfg)
	col := h2.collect(true)
	var want []string
	for _, c := range cs[4:] {
		for _, l := range c.Lines {
			want = append(want, l.Text)
		}
	}
	want = append(append(want, moreOld...), wantNew...)
	waitFor(t, 5*time.Second, "lines", func() bool { return col.total() >= len(want) })
	col.expectEachOnce(t, want)
	col.mu.Lock()
	for _, c := range col.chunks {
		if c.Path != path {
			t.Errorf("chunk path %q", c.Path)
		}
		if strings.HasPrefix(c.Lines[0].Text, "s-") && c.Start == cs[4].Start && c.Data != cs[4].Data {
			t.Errorf("re-sent chunk differs")
		}
	}
	col.mu.Unlock()
	waitFor(t, 5*time.Second, "rotated file dropped", func() bool { return len(h2.tl.Stats().Files) == 1 })
}

// (i) the registry is replaced atomically: a crash in the middle of writing
// leaves the previous registry intact.
func TestRegistryCrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	_, content := numbered("c", 0, 20)
	writeFile(t, path, content)
	cfg := testConfig(dir)
	h := startTailer(t, cfg)
	h.collect(true)
	waitFor(t, 5*time.Second, "acked", func() bool {
		fs, _ := fileStats(h.tl, path)
		return fs.AckedOffset == int64(len(content))
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cfg.RegistryPath)
	if err != nil {
		t.Fatal(err)
	}

	// Simulated crash: half of a new registry written, then the process dies.
	doc := regDoc{Version: registryVersion, Files: []regFile{{Path: path, Fingerprint: "0", Offset: 0}}}
	crash := errors.New("simulated crash")
	err = saveRegistry(cfg.RegistryPath, doc, func(f *os.File, b []byte) error {
		f.Write(b[:len(b)/2])
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("err %v", err)
	}
	after, err := os.ReadFile(cfg.RegistryPath)
	if err != nil || string(after) != string(before) {
		t.Fatalf("registry changed by an interrupted write: %v", err)
	}
	if _, err := os.Stat(cfg.RegistryPath + ".tmp"); err != nil {
		t.Fatalf("expected the partial temp file to be left behind: %v", err)
	}
	// A restart resumes from the intact registry: nothing is re-sent.
	h2 := startTailer(t, cfg)
	if c := h2.recv(3 * cfg.FlushTimeout); c != nil {
		t.Fatalf("re-sent %d lines after restart", len(c.Lines))
	}
}

func TestCorruptRegistry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-a.log")
	writeFile(t, path, "x\n")
	cfg := testConfig(dir)
	good := `{"version":1,"files":[{"path":"` + path + `","dev":1,"ino":2,"fingerprint_len":2,"fingerprint":"00000000000000ff","offset":2}]}`
	for name, data := range map[string]string{
		"garbage":   "{garbage",
		"truncated": good[:len(good)/2],
		"empty":     "",
		"version":   `{"version":7,"files":[]}`,
		"offset":    strings.Replace(good, `"offset":2`, `"offset":-5`, 1),
		"fp":        strings.Replace(good, `00000000000000ff`, `zz`, 1),
	} {
		writeFile(t, cfg.RegistryPath, data)
		_, err := New(cfg, nil)
		if !errors.Is(err, ErrCorruptRegistry) || !strings.Contains(err.Error(), cfg.RegistryPath) {
			t.Fatalf("%s: err %v", name, err)
		}
	}
	writeFile(t, cfg.RegistryPath, good)
	if _, err := New(cfg, nil); err != nil {
		t.Fatalf("valid registry: %v", err)
	}

	// ResetRegistry: start over, keep the old file aside.
	writeFile(t, cfg.RegistryPath, "{garbage")
	cfg.ResetRegistry = true
	h := startTailer(t, cfg)
	c := h.mustRecv()
	if c.Lines[0].Text != "x" {
		t.Fatalf("lines %+v", c.Lines)
	}
	if b, err := os.ReadFile(cfg.RegistryPath + ".reset"); err != nil || string(b) != "{garbage" {
		t.Fatalf("old registry not kept: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]Config{
		"no globs":               {RegistryPath: filepath.Join(dir, "r")},
		"bad glob":               {Globs: []string{"[x"}, RegistryPath: filepath.Join(dir, "r")},
		"reset without registry": {Globs: []string{"*.log"}, ResetRegistry: true},
		"bad position":           {Globs: []string{"*.log"}, Positions: []Position{{Path: "", Offset: 3}}},
		"negative":               {Globs: []string{"*.log"}, RegistryPath: filepath.Join(dir, "r"), MaxInflight: -1},
	} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The real loghub sample: CRLF endings, no newline after the last line.
func TestLoghubSample(t *testing.T) {
	src := "/work/shared/data/loghub-openssh/OpenSSH_2k.log"
	in, err := os.Open(src)
	if err != nil {
		t.Skipf("sample not available: %v", err)
	}
	defer in.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh-loghub.log")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	data, _ := os.ReadFile(path)
	want := strings.Split(strings.TrimRight(string(data), "\r\n"), "\r\n")
	h := startTailer(t, testConfig(dir))
	col := h.collect(true)
	waitFor(t, 5*time.Second, "all lines", func() bool { return col.total() >= len(want) })
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.order) != 2000 || len(want) != 2000 {
		t.Fatalf("%d lines, want 2000", len(col.order))
	}
	for i := range want {
		if col.order[i] != want[i] {
			t.Fatalf("line %d: %q, want %q", i, col.order[i], want[i])
		}
	}
}
