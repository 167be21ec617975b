package ipstage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// The first generation kept the day aggregates in the table (keys
// "d|day|P", kind 10, a watermark per loopback stream and source
// partition). An install upgraded from it has its past days there and
// none in the days topic: a partition's first restore with nothing in the
// days topic (at its first event after the upgrade) reads them from the
// table once, and the window writes them to the days topic with a marker
// (key "m|P") that says the partition was migrated. The old version must have caught up before the upgrade: deltas
// it left in its loopback are not read.

// kindLegacyDayState is the first generation's day aggregate.
const kindLegacyDayState byte = 10

// migratedKey marks partition p's day aggregates as migrated.
func migratedKey(p int32) string { return "m|" + strconv.Itoa(int(p)) }

// legacyDays returns partition p's first-generation aggregates among recs
// (the table's records, oldest first; the latest per key wins).
func legacyDays(p int32, recs []exactly.Record) (map[string]*DayState, error) {
	suffix := "|" + strconv.Itoa(int(p))
	out := map[string]*DayState{}
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, DayKeyPrefix) || !strings.HasSuffix(r.Key, suffix) {
			continue
		}
		if r.Value == nil {
			continue
		}
		st, err := decodeLegacyDay(r.Value)
		if err != nil {
			return nil, fmt.Errorf("first-generation day aggregate %s: %w", r.Key, err)
		}
		if st.Partition == p {
			out[st.Day] = st
		}
	}
	return out, nil
}

// decodeLegacyDay reads a kind 10 day aggregate; its watermark is the
// highest offset either stream applied (only partition P fed "d|day|P").
func decodeLegacyDay(b []byte) (*DayState, error) {
	if len(b) == 0 || b[0] != kindLegacyDayState {
		return nil, fmt.Errorf("not a first-generation day aggregate")
	}
	r := &stage.Reader{B: b[1:]}
	s := &DayState{Wm: -1}
	s.Day = r.Str()
	s.Partition = int32(r.Varint())
	for range 2 { // the watermarks of streams A and B
		n := r.Count(1024)
		for range n {
			s.Wm = max(s.Wm, r.Varint())
		}
	}
	s.readCounts(r)
	if r.Err != nil {
		return nil, r.Err
	}
	return s, nil
}
