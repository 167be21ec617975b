package kafkaconfig

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
