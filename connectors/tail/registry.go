package tail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

const registryVersion = 1

// regDoc is the registry file's JSON document.
type regDoc struct {
	Version int       `json:"version"`
	Updated time.Time `json:"updated"`
	Files   []regFile `json:"files"`
}

// regFile is one file's acknowledged offset.
type regFile struct {
	Path           string `json:"path"`
	Dev            uint64 `json:"dev"`
	Ino            uint64 `json:"ino"`
	FingerprintLen int    `json:"fingerprint_len"`
	Fingerprint    string `json:"fingerprint"` // 16 hex digits
	Offset         int64  `json:"offset"`

	fp uint64 // parsed Fingerprint
}

// loadRegistry reads the registry; a missing file is an empty registry, an
// unreadable or invalid one an error.
func loadRegistry(path string) ([]regFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tail: read registry %s: %w", path, err)
	}
	corrupt := func(why string) error {
		return fmt.Errorf("%w %s: %s (fix or remove the file, or set ResetRegistry to start over)", ErrCorruptRegistry, path, why)
	}
	var doc regDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, corrupt(err.Error())
	}
	if doc.Version != registryVersion {
		return nil, corrupt(fmt.Sprintf("unsupported version %d", doc.Version))
	}
	for i := range doc.Files {
		e := &doc.Files[i]
		if e.Path == "" || e.Offset < 0 || e.FingerprintLen < 0 || e.FingerprintLen > FingerprintBytes {
			return nil, corrupt(fmt.Sprintf("invalid entry %d", i))
		}
		fp, err := strconv.ParseUint(e.Fingerprint, 16, 64)
		if err != nil {
			return nil, corrupt(fmt.Sprintf("entry %d: bad fingerprint %q", i, e.Fingerprint))
		}
		e.fp = fp
	}
	return doc.Files, nil
}

func saveRegistry(path string, doc regDoc, write func(*os.File, []byte) error) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), write)
}

// writeFileAtomic replaces path with data so that a crash at any point leaves
// either the old or the new content: write path+".tmp", fsync it, rename it
// over path, fsync the directory. write (nil: f.Write) lets tests simulate a
// crash in the middle of writing.
func writeFileAtomic(path string, data []byte, write func(*os.File, []byte) error) error {
	if write == nil {
		write = func(f *os.File, b []byte) error {
			_, err := f.Write(b)
			return err
		}
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("tail: write registry: %w", err)
	}
	if err := write(f, data); err != nil {
		f.Close()
		return fmt.Errorf("tail: write registry: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("tail: fsync registry: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tail: close registry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tail: rename registry: %w", err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("tail: fsync registry directory: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("tail: fsync registry directory: %w", err)
	}
	return nil
}
