package spool_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/log-monitor/log_monitor/connectors/spool"
)

func TestOrderBoundReopenAndTornWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := spool.Open(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 8; i++ {
		if err := s.Append([]byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 5 || s.Dropped() != 3 {
		t.Fatalf("len %d dropped %d, want 5 and 3 (the oldest)", s.Len(), s.Dropped())
	}
	recs, seqs, err := s.Peek(2)
	if err != nil || len(recs) != 2 || string(recs[0]) != "4" || string(recs[1]) != "5" {
		t.Fatalf("peek: %q %v", recs, err)
	}
	if err := s.Remove(seqs[len(seqs)-1]); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves a temporary file: reopening drops it and
	// keeps the rest in order; new records follow the old ones.
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000009.rec.tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := spool.Open(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Append([]byte("9")); err != nil {
		t.Fatal(err)
	}
	recs, _, err = s2.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s", recs); got != "[6 7 8 9]" {
		t.Fatalf("after reopen: %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000009.rec.tmp")); !os.IsNotExist(err) {
		t.Fatal("the torn write was kept")
	}
}

func TestOpenRefusesAZeroBound(t *testing.T) {
	if _, err := spool.Open(t.TempDir(), 0); err == nil {
		t.Fatal("a spool of 0 records opened")
	}
}
