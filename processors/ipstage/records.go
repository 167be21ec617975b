package ipstage

import (
	"sync"

	"github.com/log-monitor/log_monitor/processors/exactly"
)

// recordBook holds the IP records changed since the group's window last
// wrote them, per partition: an IP's events within a window change its
// record in memory, and the window writes it once (to the table topic and
// the local store). Until the window has written a record, reads of the IP
// find it here. Each partition's entries are changed and read under the
// window's lock of that partition; the map of partitions has a lock of its
// own.
type recordBook struct {
	mu    sync.Mutex
	parts map[int32]map[string]*dirtyRecord
}

// dirtyRecord is a changed IP record; version counts its changes, and
// collected is the version the window is writing.
type dirtyRecord struct {
	r                  *IPRecord
	version, collected int
}

func newRecordBook() *recordBook { return &recordBook{parts: map[int32]map[string]*dirtyRecord{}} }

func (b *recordBook) partition(p int32) map[string]*dirtyRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.parts[p]
	if m == nil {
		m = map[string]*dirtyRecord{}
		b.parts[p] = m
	}
	return m
}

// get returns ip's changed record of partition p, or nil.
func (b *recordBook) get(p int32, ip string) *IPRecord {
	if d := b.partition(p)[ip]; d != nil {
		return d.r
	}
	return nil
}

// changed records that ip's record r changed.
func (b *recordBook) changed(p int32, ip string, r *IPRecord) {
	m := b.partition(p)
	d := m[ip]
	if d == nil {
		d = &dirtyRecord{}
		m[ip] = d
	}
	d.r = r
	d.version++
}

// collect encodes p's records changed since they were last collected, as
// records of table.
func (b *recordBook) collect(p int32, table string) ([]exactly.Record, error) {
	m := b.partition(p)
	recs := make([]exactly.Record, 0, len(m))
	for ip, d := range m {
		if d.collected == d.version {
			continue
		}
		v, err := d.r.appendTo(make([]byte, 0, 512))
		if err != nil {
			return nil, err
		}
		recs = append(recs, exactly.Record{Topic: table, Key: ip, Value: v})
		d.collected = d.version
	}
	return recs, nil
}

// written drops the records the store now holds as they are (not changed
// since they were collected).
func (b *recordBook) written(p int32, recs []exactly.Record) {
	m := b.partition(p)
	for _, r := range recs {
		if d := m[r.Key]; d != nil && r.Topic != "" && d.collected == d.version {
			delete(m, r.Key)
		}
	}
}

// reset forgets p's records (a restore: the table holds what was written).
func (b *recordBook) reset(p int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.parts, p)
}
