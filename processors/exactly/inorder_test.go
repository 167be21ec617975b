package exactly

import "testing"

// A later message finished first is not committed past an earlier one.
func TestDeliveredCommitsContiguousRunOnly(t *testing.T) {
	var d delivered
	for _, off := range []int64{10, 11, 12, 14} { // 13: a gap (compaction)
		d.deliver(off)
	}
	steps := []struct {
		finish int64
		next   int64
		ok     bool
	}{
		{11, 0, false}, // 10 still running
		{12, 0, false},
		{10, 13, true}, // 10, 11, 12 done
		{9, 0, false},  // not delivered here while 14 is pending: ignored
		{14, 15, true}, // across the gap
		{20, 21, true}, // not delivered here, nothing pending: passed on
	}
	for _, s := range steps {
		next, ok := d.finish(s.finish)
		if ok != s.ok || (ok && next != s.next) {
			t.Errorf("finish %d: commit %d %v, want %d %v", s.finish, next, ok, s.next, s.ok)
		}
	}
	if len(d.offsets) != 0 {
		t.Errorf("%d offsets left pending", len(d.offsets))
	}
}

// A withheld message and every later one are never committed; earlier ones
// still are.
func TestDeliveredWithheld(t *testing.T) {
	var d delivered
	for off := int64(10); off <= 14; off++ {
		d.deliver(off)
	}
	d.withhold(12)
	if _, ok := d.finish(11); ok {
		t.Fatal("11 committed while 10 runs")
	}
	if next, ok := d.finish(10); !ok || next != 12 {
		t.Fatalf("finish 10: commit %d %v, want 12 true", next, ok)
	}
	for _, off := range []int64{13, 12, 14, 20} {
		if next, ok := d.finish(off); ok {
			t.Fatalf("finish %d after withholding 12: commit %d", off, next)
		}
	}
}

// Withhold reaches the session that delivered the message.
func TestWithholderReachesTheSession(t *testing.T) {
	var w Withholder
	w.Withhold("t", 0, 5) // no session yet: nothing to do, no panic
	d := w.sessionFor(nil).partition("t", 0)
	d.deliver(5)
	w.Withhold("t", 0, 5)
	if _, ok := d.finish(5); ok {
		t.Fatal("a withheld message was committed")
	}
}
