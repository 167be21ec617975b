package tail

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// With no registry file the caller keeps the positions: a tailer started from
// a chunk's Position resumes after that chunk, and a rotated file it closes
// is reported once by Forgotten.
func TestCallerKeptPositions(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.RegistryPath = ""
	path := filepath.Join(dir, "ssh-a.log")
	first, text := numbered("a", 0, 100)
	writeFile(t, path, text)

	h := startTailer(t, cfg)
	c := h.mustRecv() // 64 lines (ChunkLines)
	if len(c.Lines) != 64 {
		t.Fatalf("first chunk: %d lines", len(c.Lines))
	}
	pos := c.Position()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "registry.json")); !os.IsNotExist(err) {
		t.Fatalf("a registry file was written without a RegistryPath: %v", err)
	}

	cfg.Positions = []Position{pos}
	h = startTailer(t, cfg)
	col := h.collect(true)
	waitFor(t, 5*time.Second, "the rest of the file", func() bool { return col.total() >= 36 })
	col.expectEachOnce(t, first[64:])

	// Rotation: the old file leaves its path, is closed once read and
	// acknowledged, and its position is forgotten exactly once.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	var got []Position
	waitFor(t, 5*time.Second, "the rotated file forgotten", func() bool {
		got = append(got, h.tl.Forgotten()...)
		return len(got) > 0
	})
	if len(got) != 1 || got[0].Ino != pos.Ino || got[0].Offset != 100*int64(len(first[0])+1) {
		t.Fatalf("forgotten %+v, want inode %d at offset %d", got, pos.Ino, 100*(len(first[0])+1))
	}
	if again := h.tl.Forgotten(); len(again) != 0 {
		t.Fatalf("forgotten twice: %+v", again)
	}
}
