package exactly

import (
	"fmt"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
)

func openStore(t *testing.T, dir string) *writeBehind {
	t.Helper()
	st, err := StorageBuilder(dir)("table", 0)
	if err != nil {
		t.Fatal(err)
	}
	return st.(*writeBehind)
}

func get(t *testing.T, s *writeBehind, key string) string {
	t.Helper()
	v, err := s.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return "<nil>"
	}
	return string(v)
}

// TestWriteBehindReadsItsPendingWrites: a write is visible at once, before
// it reaches LevelDB, and survives Close.
func TestWriteBehindReadsItsPendingWrites(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
		if err := s.Set(kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("b"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOffset(41); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "a"); got != "3" {
		t.Errorf("a = %s, want 3", got)
	}
	if has, _ := s.Has("b"); has || get(t, s, "b") != "<nil>" {
		t.Errorf("b still there after Delete")
	}
	if _, err := s.db.Get([]byte("a"), nil); err != leveldb.ErrNotFound {
		t.Fatalf("a reached LevelDB before a flush (%v): the writes are not gathered", err)
	}
	if off, _ := s.GetOffset(-2); off != 41 {
		t.Errorf("offset %d, want 41", off)
	}
	it, err := s.Iterator() // applies the pending writes
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for it.Next() {
		keys = append(keys, string(it.Key()))
	}
	it.Release()
	if fmt.Sprint(keys) != "[a]" {
		t.Errorf("iterator keys %v, want [a] (no offset key, no deleted key)", keys)
	}
	if err := s.Set("c", []byte("4")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if a, c := get(t, s, "a"), get(t, s, "c"); a != "3" || c != "4" {
		t.Errorf("after reopening: a=%s c=%s, want 3 and 4", a, c)
	}
	if off, _ := s.GetOffset(-2); off != 41 {
		t.Errorf("offset after reopening %d, want 41", off)
	}
}

// TestWriteBehindCrashLeavesAPrefix: killed without Close, LevelDB holds the
// writes of the applied batches and the offset stored with them, nothing
// of the pending batch: a state goka recovers from by reading the table
// topic from that offset.
func TestWriteBehindCrashLeavesAPrefix(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	// Two full batches of (value, offset) writes, then part of a third.
	n := flushWrites + flushWrites/4 // value+offset pairs: 2.5 batches of writes
	for i := 1; i <= n; i++ {
		if err := s.Set("k", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOffset(int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Close(); err != nil { // a crash: the pending batch is lost
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	off, err := s.GetOffset(-2)
	if err != nil {
		t.Fatal(err)
	}
	// Each pair is two writes; a batch is applied at flushWrites writes
	// (unless flushEvery ran out first, which only makes batches smaller).
	if off <= 0 || off >= int64(n) {
		t.Fatalf("offset after the crash %d: want an applied prefix, short of the %d written", off, n)
	}
	if got := get(t, s, "k"); got != fmt.Sprint(off) {
		t.Errorf("value after the crash %s, offset %d: the value and the offset are not of the same prefix", got, off)
	}
}
