package ipstage

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// DayState is one day's aggregate over the IPs of one partition (key
// "d|YYYY-MM-DD|P"). No field grows with the number of IPs: the top lists
// hold contracts.DailyTopN entries. Because every IP belongs to exactly one partition, the
// day's exact top lists are the top of the partitions' top lists.
type DayState struct {
	Day       string
	Partition int32
	// Applied watermarks per stream and source partition: a delta whose
	// offset is not above its watermark was applied already (a replay).
	WmA, WmB []int64

	Total, Errors        int64
	Hourly               [24]int64
	UniqueIPs, BruteIPs  int64
	TopEvents, TopFailed []contracts.IPCount
	// MaxTime is the latest event time of the IP handler's deltas (stream
	// B, unix seconds), which closes days by event time. Stream A (events
	// without an IP) takes one hop less and runs ahead: a day closed on
	// its time still lacked IP deltas in a replay.
	MaxTime int64
	// Updated is when the aggregate last changed (wall clock, unix ms).
	Updated int64
}

// apply adds d unless it was applied already; it reports whether it did.
func (s *DayState) apply(d *DayDelta, now time.Time) bool {
	wm := &s.WmA
	if d.Stream == 'B' {
		wm = &s.WmB
	}
	for int(d.Src) >= len(*wm) {
		*wm = append(*wm, -1)
	}
	if d.Offset <= (*wm)[d.Src] {
		return false
	}
	(*wm)[d.Src] = d.Offset
	s.Total++
	if d.Error {
		s.Errors++
	}
	if d.Hour < 24 {
		s.Hourly[d.Hour]++
	}
	if d.Stream == 'B' && d.Time > s.MaxTime {
		s.MaxTime = d.Time
	}
	if d.IP != "" {
		if d.FirstOfIP {
			s.UniqueIPs++
		}
		if d.CrossedBF {
			s.BruteIPs++
		}
		s.TopEvents = raise(s.TopEvents, d.IP, d.IPEvents)
		if d.IPFailed > 0 {
			s.TopFailed = raise(s.TopFailed, d.IP, d.IPFailed)
		}
	}
	s.Updated = now.UnixMilli()
	return true
}

// raise records that ip's count is now cnt (counts only grow) and keeps the
// contracts.DailyTopN by count, ties by IP ascending. An IP outside the list can only enter
// it through an update of its own, so the list stays exact.
func raise(top []contracts.IPCount, ip string, cnt int64) []contracts.IPCount {
	for i := range top {
		if top[i].IP == ip {
			if cnt > top[i].Cnt {
				top[i].Cnt = cnt
				sortTop(top)
			}
			return top
		}
	}
	if len(top) == contracts.DailyTopN && !before(contracts.IPCount{IP: ip, Cnt: cnt}, top[contracts.DailyTopN-1]) {
		return top
	}
	top = append(top, contracts.IPCount{IP: ip, Cnt: cnt})
	sortTop(top)
	if len(top) > contracts.DailyTopN {
		top = top[:contracts.DailyTopN]
	}
	return top
}

func before(a, b contracts.IPCount) bool {
	if a.Cnt != b.Cnt {
		return a.Cnt > b.Cnt
	}
	return strings.Compare(a.IP, b.IP) < 0
}

func sortTop(t []contracts.IPCount) { sort.Slice(t, func(i, j int) bool { return before(t[i], t[j]) }) }

// Merge combines the partitions' aggregates of one day into its document.
func Merge(day string, parts []*DayState, createdAt time.Time) contracts.DailyMetrics {
	m := contracts.DailyMetrics{MetricDate: day, HourlyLogs: make([]int64, 24), CreatedAt: createdAt,
		TopIPList: []contracts.IPCount{}, TopBruteList: []contracts.IPCount{}}
	for _, p := range parts {
		m.TotalLogs += p.Total
		m.ErrorCount += p.Errors
		m.UniqueIPs += p.UniqueIPs
		m.BruteForceIPs += p.BruteIPs
		for h, n := range p.Hourly {
			m.HourlyLogs[h] += n
		}
		for _, e := range p.TopEvents {
			m.TopIPList = raise(m.TopIPList, e.IP, e.Cnt)
		}
		for _, e := range p.TopFailed {
			m.TopBruteList = raise(m.TopBruteList, e.IP, e.Cnt)
		}
	}
	for h, n := range m.HourlyLogs {
		if n > m.PeakHourLogs { // earliest hour on ties
			m.PeakHour, m.PeakHourLogs = h, n
		}
	}
	return m
}

// DayKeyPrefix starts the table key of every per-day aggregate.
const DayKeyPrefix = "d|"

// DayKey is the table key of day's aggregate for partition p.
func DayKey(day string, p int32) string {
	return DayKeyPrefix + day + "|" + strconv.Itoa(int(p))
}

// Day state codec.

func (s *DayState) appendTo(b []byte) []byte {
	w := stage.Writer{B: append(b, kindDayState)}
	w.Str(s.Day)
	w.Varint(int64(s.Partition))
	for _, wm := range [][]int64{s.WmA, s.WmB} {
		w.Uvarint(uint64(len(wm)))
		for _, v := range wm {
			w.Varint(v)
		}
	}
	w.Varint(s.Total)
	w.Varint(s.Errors)
	for _, n := range s.Hourly {
		w.Varint(n)
	}
	w.Varint(s.UniqueIPs)
	w.Varint(s.BruteIPs)
	for _, top := range [][]contracts.IPCount{s.TopEvents, s.TopFailed} {
		w.Uvarint(uint64(len(top)))
		for _, e := range top {
			w.Str(e.IP)
			w.Varint(e.Cnt)
		}
	}
	w.Varint(s.MaxTime)
	w.Varint(s.Updated)
	return w.B
}

func (s *DayState) read(r *stage.Reader) {
	s.Day = r.Str()
	s.Partition = int32(r.Varint())
	for _, wm := range []*[]int64{&s.WmA, &s.WmB} {
		n := r.Count(1024)
		*wm = make([]int64, n)
		for i := range *wm {
			(*wm)[i] = r.Varint()
		}
	}
	s.Total = r.Varint()
	s.Errors = r.Varint()
	for h := range s.Hourly {
		s.Hourly[h] = r.Varint()
	}
	s.UniqueIPs = r.Varint()
	s.BruteIPs = r.Varint()
	for _, top := range []*[]contracts.IPCount{&s.TopEvents, &s.TopFailed} {
		n := r.Count(contracts.DailyTopN)
		*top = make([]contracts.IPCount, n)
		for i := range *top {
			(*top)[i] = contracts.IPCount{IP: r.Str(), Cnt: r.Varint()}
		}
	}
	s.MaxTime = r.Varint()
	s.Updated = r.Varint()
}
