package tail

import (
	"errors"
	"fmt"
)

// Position is how far one file is durably consumed downstream: the file's
// identity and the offset after the last line that is safe (a registry entry,
// or a record of the exactly-once ingest's positions topic).
type Position struct {
	Path           string `json:"path"`
	Dev            uint64 `json:"dev"`
	Ino            uint64 `json:"ino"`
	FingerprintLen int    `json:"fingerprint_len"`
	Fingerprint    uint64 `json:"fingerprint"`
	Offset         int64  `json:"offset"`
}

// Position is where the file stands once this chunk and every chunk of the
// file before it are durable.
func (c *Chunk) Position() Position {
	return Position{Path: c.Path, Dev: c.Key.Dev, Ino: c.Key.Ino,
		FingerprintLen: c.Key.FingerprintLen, Fingerprint: c.Key.Fingerprint, Offset: c.End}
}

// Forgotten returns, once, the positions of the files the tailer stopped
// tracking since the last call: entries it could not resume at start-up and
// files it closed after rotation or deletion. A caller that keeps the
// positions itself deletes them, so they are not looked for at every start.
func (t *Tailer) Forgotten() []Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.forgotten
	t.forgotten = nil
	return out
}

// forget records f's position as forgotten; t.mu must be held.
func (t *Tailer) forget(p Position) {
	t.forgotten = append(t.forgotten, p)
}

// positionsToRegistry checks positions given by the caller and turns them
// into the registry entries start-up matches against.
func positionsToRegistry(ps []Position) ([]regFile, error) {
	out := make([]regFile, 0, len(ps))
	for i, p := range ps {
		if p.Path == "" || p.Offset < 0 || p.FingerprintLen < 0 || p.FingerprintLen > FingerprintBytes {
			return nil, fmt.Errorf("tail: position %d (%q at %d): %w", i, p.Path, p.Offset, errBadPosition)
		}
		out = append(out, regFile{Path: p.Path, Dev: p.Dev, Ino: p.Ino, FingerprintLen: p.FingerprintLen,
			Fingerprint: fmt.Sprintf("%016x", p.Fingerprint), Offset: p.Offset, fp: p.Fingerprint})
	}
	return out, nil
}

func (e regFile) position() Position {
	return Position{Path: e.Path, Dev: e.Dev, Ino: e.Ino, FingerprintLen: e.FingerprintLen, Fingerprint: e.fp, Offset: e.Offset}
}

var errBadPosition = errors.New("invalid position")

// LoadRegistry reads a registry file written by a Tailer (the local registry
// of earlier versions), as positions; a missing file gives none.
func LoadRegistry(path string) ([]Position, error) {
	reg, err := loadRegistry(path)
	if err != nil {
		return nil, err
	}
	out := make([]Position, len(reg))
	for i, e := range reg {
		out[i] = e.position()
	}
	return out, nil
}
