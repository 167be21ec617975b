package ipstage

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/exactly"
)

// A day aggregate as the first generation wrote it to the table (the bytes
// its codec wrote, pinned by the tracker's golden test before the days
// topic): streams A and B with their watermarks per source partition.
const firstGenerationDay = "0a0a323031352d31322d313004010202010812040000000000000000000000000000000000000000000000000602010831302e302e302e310a0092c6c6e60a80a0abfef962"

// An upgraded install's first restore of a partition takes its days from
// the table, writes them to the days topic with the marker, and a later
// restore reads the days topic only.
func TestRestoreMigratesTheFirstGenerationsDays(t *testing.T) {
	old, err := hex.DecodeString(firstGenerationDay)
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	readTable := func() ([]exactly.Record, error) {
		reads++
		return []exactly.Record{{Key: DayKey("2015-12-10", 2), Value: old}, {Key: DayKey("2015-12-10", 1), Value: old}}, nil
	}
	b := newDayBook()
	if err := b.restore(2, nil, readTable); err != nil {
		t.Fatal(err)
	}
	want := &DayState{Day: "2015-12-10", Partition: 2, Wm: 4, Total: 9, Errors: 2, UniqueIPs: 3, BruteIPs: 1,
		TopEvents: []contracts.IPCount{{IP: "10.0.0.1", Cnt: 5}}, TopFailed: []contracts.IPCount{}, MaxTime: 1449709961, Updated: 1700000000000}
	if got := b.partition(2).days["2015-12-10"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("migrated day\n%+v\nwant\n%+v", got, want)
	}
	written := b.collect(2)
	if len(written) != 2 || written[0].Key != DayKey("2015-12-10", 2) || written[1].Key != migratedKey(2) {
		t.Fatalf("first write after the migration: %v", written)
	}
	if more := b.collect(2); len(more) != 0 {
		t.Fatalf("second write: %v, want nothing", more)
	}
	if err := b.restore(2, written, readTable); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("the table was read %d times, want once", reads)
	}
	if got := b.partition(2).days["2015-12-10"]; got == nil || got.Total != 9 || got.Wm != 4 {
		t.Errorf("day after a restore from the days topic: %+v", got)
	}
}
