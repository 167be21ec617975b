// Package spool is a bounded on-disk FIFO of records, for an agent that
// must keep its samples while Kafka is unreachable: one file per record,
// named by its sequence number, written to a temporary name and renamed, so
// a crash leaves whole records only. Past the bound the oldest records are
// dropped and counted. One record every few seconds makes a file per record
// cheap (a day at 10 s is 8,640 files).
package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Spool is a directory of records, oldest first. It is safe for
// concurrent use (one producer and one sender).
type Spool struct {
	dir     string
	max     int
	mu      sync.Mutex
	seqs    []uint64 // the records on disk, in order
	next    uint64
	dropped int64
}

const suffix = ".rec"

// Open opens (creating) the spool in dir holding at most max records; the
// records of an earlier run are kept, in order, and half-written ones
// removed.
func Open(dir string, max int) (*Spool, error) {
	if max < 1 {
		return nil, fmt.Errorf("spool %s: bound %d, want at least 1", dir, max)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, max: max, next: 1}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name)) // a crash mid-write
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 64)
		if err != nil || !strings.HasSuffix(name, suffix) {
			continue
		}
		s.seqs = append(s.seqs, seq)
		s.next = max64(s.next, seq+1)
	}
	sort.Slice(s.seqs, func(i, j int) bool { return s.seqs[i] < s.seqs[j] })
	return s, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// Append adds a record at the end, durably, dropping the oldest records
// past the bound.
func (s *Spool) Append(rec []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.next
	tmp := s.path(seq) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("spool append: %w", err)
	}
	_, werr := f.Write(rec)
	serr := f.Sync()
	cerr := f.Close()
	if err := firstErr(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool append: %w", err)
	}
	if err := os.Rename(tmp, s.path(seq)); err != nil {
		return fmt.Errorf("spool append: %w", err)
	}
	s.next++
	s.seqs = append(s.seqs, seq)
	for len(s.seqs) > s.max {
		_ = os.Remove(s.path(s.seqs[0]))
		s.seqs = s.seqs[1:]
		s.dropped++
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Peek returns up to n of the oldest records, oldest first, with their
// sequence numbers: Remove(seq) drops every record up to seq once
// delivered.
func (s *Spool) Peek(n int) (recs [][]byte, seqs []uint64, err error) {
	s.mu.Lock()
	waiting := append([]uint64(nil), s.seqs[:min(n, len(s.seqs))]...)
	s.mu.Unlock()
	for _, seq := range waiting {
		b, err := os.ReadFile(s.path(seq))
		if os.IsNotExist(err) {
			continue // dropped past the bound meanwhile
		}
		if err != nil {
			return nil, nil, fmt.Errorf("spool read: %w", err)
		}
		recs = append(recs, b)
		seqs = append(seqs, seq)
	}
	return recs, seqs, nil
}

// Remove drops the records up to and including upTo.
func (s *Spool) Remove(upTo uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for ; i < len(s.seqs) && s.seqs[i] <= upTo; i++ {
		if err := os.Remove(s.path(s.seqs[i])); err != nil && !os.IsNotExist(err) {
			s.seqs = s.seqs[i:]
			return fmt.Errorf("spool remove: %w", err)
		}
	}
	s.seqs = s.seqs[i:]
	return nil
}

// Len is how many records wait.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

// Dropped is how many records the bound dropped since Open.
func (s *Spool) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
