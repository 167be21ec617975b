package ipstage

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/log-monitor/log_monitor/processors/exactly"
)

// dayBook holds the day aggregates of the ssh-log partitions this instance
// processes, in memory; the group's window writes the changed ones to the
// days topic and restores a partition's from it after an assignment. Each
// partition's aggregates are changed and read under the window's lock of
// that partition; the map of partitions has a lock of its own.
type dayBook struct {
	mu    sync.Mutex
	parts map[int32]*partitionDays
}

// partitionDays are one partition's aggregates by day, and the days changed
// since the last write.
type partitionDays struct {
	days    map[string]*DayState
	changed map[string]bool
	// migrated: the aggregates came from the first generation's table; the
	// next write adds the marker (legacy.go).
	migrated bool
}

func newDayBook() *dayBook { return &dayBook{parts: map[int32]*partitionDays{}} }

func (b *dayBook) partition(p int32) *partitionDays {
	b.mu.Lock()
	defer b.mu.Unlock()
	pd := b.parts[p]
	if pd == nil {
		pd = &partitionDays{days: map[string]*DayState{}, changed: map[string]bool{}}
		b.parts[p] = pd
	}
	return pd
}

// add applies c to day's aggregate of partition p; false: applied already.
func (b *dayBook) add(p int32, day string, c *contribution, now time.Time) bool {
	pd := b.partition(p)
	st := pd.days[day]
	if st == nil {
		st = &DayState{Day: day, Partition: p, Wm: -1}
		pd.days[day] = st
	}
	if !st.apply(c, now) {
		return false
	}
	pd.changed[day] = true
	return true
}

// collect encodes p's aggregates changed since the last call.
func (b *dayBook) collect(p int32) []exactly.Record {
	pd := b.partition(p)
	recs := make([]exactly.Record, 0, len(pd.changed))
	for day := range pd.changed {
		st := pd.days[day]
		recs = append(recs, exactly.Record{Key: DayKey(day, p), Value: st.appendTo(make([]byte, 0, 256))})
	}
	clear(pd.changed)
	if pd.migrated {
		recs = append(recs, exactly.Record{Key: migratedKey(p), Value: []byte("migrated from the table")})
		pd.migrated = false
	}
	return recs
}

// restore replaces p's aggregates by the days topic's. Of two records of a
// day the one that applied more wins (a record written late by a previous
// owner cannot undo a newer one). A partition the days topic knows nothing
// of takes its aggregates from the first generation's table (readTable;
// nil: none).
func (b *dayBook) restore(p int32, recs []exactly.Record, readTable func() ([]exactly.Record, error)) error {
	pd := &partitionDays{days: map[string]*DayState{}, changed: map[string]bool{}}
	suffix := "|" + strconv.Itoa(int(p))
	known := false
	for _, r := range recs {
		if r.Key == migratedKey(p) {
			known = true
		}
		if !strings.HasPrefix(r.Key, DayKeyPrefix) || !strings.HasSuffix(r.Key, suffix) {
			continue
		}
		st, err := DecodeDay(r.Value)
		if err != nil {
			return err
		}
		if st.Partition != p {
			continue
		}
		known = true
		if old := pd.days[st.Day]; old == nil || st.Wm >= old.Wm {
			pd.days[st.Day] = st
		}
	}
	if !known && readTable != nil {
		table, err := readTable()
		if err != nil {
			return err
		}
		legacy, err := legacyDays(p, table)
		if err != nil {
			return err
		}
		for day, st := range legacy {
			pd.days[day] = st
			pd.changed[day] = true
		}
		pd.migrated = true
	}
	b.mu.Lock()
	b.parts[p] = pd
	b.mu.Unlock()
	return nil
}

// all returns every held aggregate by day (copies).
func (b *dayBook) all() map[string][]*DayState {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]*DayState{}
	for _, pd := range b.parts {
		for day, st := range pd.days {
			c := *st
			out[day] = append(out[day], &c)
		}
	}
	return out
}
