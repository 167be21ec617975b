package ipstage

import (
	"testing"
	"time"
)

// The closing rule: by event time once every partition passed the day's end
// plus grace and the group is not catching up; else by wall clock when idle.
func TestDayClose(t *testing.T) {
	c := DefaultDayClose(time.UTC, 3)
	end := time.Date(2015, 12, 11, 0, 0, 0, 0, time.UTC).Add(c.Grace).Unix() // 2015-12-10 closes here
	state := func(day string, p int32, maxTime int64, updated time.Time) *DayState {
		return &DayState{Day: day, Partition: p, MaxTime: maxTime, Updated: updated.UnixMilli()}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recent, long := now.Add(-time.Second), now.Add(-time.Hour)
	all := func(max0, max1, max2 int64, updated time.Time) map[string][]*DayState {
		return map[string][]*DayState{
			"2015-12-10": {state("2015-12-10", 0, end-100, updated), state("2015-12-10", 1, end-100, updated), state("2015-12-10", 2, end-100, updated)},
			"2015-12-11": {state("2015-12-11", 0, max0, recent), state("2015-12-11", 1, max1, recent), state("2015-12-11", 2, max2, recent)},
		}
	}
	cases := []struct {
		name          string
		days          map[string][]*DayState
		lag           int64
		closed10      bool
		closed11Later bool
	}{
		{"every partition past, no backlog", all(end, end+5, end+9, recent), 100, true, false},
		{"one partition short", all(end, end-1, end+9, recent), 100, false, false},
		{"a backlog", all(end, end, end, recent), c.MaxBacklog + 1, false, false},
		{"lag unknown", all(end, end, end, recent), -1, false, false},
		{"idle, nothing left", all(0, 0, 0, long), 0, true, false},
		{"idle but input left", all(0, 0, 0, long), 1, false, false},
	}
	for _, tc := range cases {
		closed := c.Closing(tc.days, tc.lag, now)
		if got := closed("2015-12-10"); got != tc.closed10 {
			t.Errorf("%s: 2015-12-10 closed %v, want %v", tc.name, got, tc.closed10)
		}
		if got := c.Closed("2015-12-10", tc.days, tc.lag, now); got != tc.closed10 {
			t.Errorf("%s: Closed %v, Closing %v", tc.name, got, tc.closed10)
		}
		if got := closed("2015-12-11"); got != tc.closed11Later {
			t.Errorf("%s: 2015-12-11 closed %v (changed a second ago)", tc.name, got)
		}
	}
	// Only two partitions have events: no closing by event time.
	two := map[string][]*DayState{"2015-12-10": {state("2015-12-10", 0, end+50, recent), state("2015-12-10", 1, end+50, recent)}}
	if c.Closed("2015-12-10", two, 0, now) {
		t.Error("closed by event time with a partition never seen")
	}
}
