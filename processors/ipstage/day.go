package ipstage

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// DayState is one day's aggregate over the IPs of one ssh-log partition
// (key "d|YYYY-MM-DD|P" in the days topic). No field grows with the number
// of IPs: the top lists hold contracts.DailyTopN entries. Because every IP
// belongs to exactly one partition, the day's exact top lists are the top
// of the partitions' top lists.
type DayState struct {
	Day       string
	Partition int32
	// Wm is the last ssh-log offset of the partition applied to the day: an
	// event at or below it was applied already (a replay).
	Wm int64

	Total, Errors        int64
	Hourly               [24]int64
	UniqueIPs, BruteIPs  int64
	TopEvents, TopFailed []contracts.IPCount
	// MaxTime is the latest event time applied (unix seconds), which
	// closes days by event time.
	MaxTime int64
	// Updated is when the aggregate last changed (wall clock, unix ms).
	Updated int64
}

// contribution is one event's part of its day's aggregate; the IP figures
// are the IP's counts of the day after the event (ip.go).
type contribution struct {
	Offset    int64
	Time      int64
	Hour      uint8
	Error     bool
	IP        string
	FirstOfIP bool  // the IP's first event of the day
	CrossedBF bool  // the IP's failed attempts that day reached the brute-force mark with this event
	IPEvents  int64 // the IP's events that day so far
	IPFailed  int64 // the IP's failed attempts that day so far
}

// apply adds c unless it was applied already; it reports whether it did.
func (s *DayState) apply(c *contribution, now time.Time) bool {
	if c.Offset <= s.Wm {
		return false
	}
	s.Wm = c.Offset
	s.Total++
	if c.Error {
		s.Errors++
	}
	if c.Hour < 24 {
		s.Hourly[c.Hour]++
	}
	s.MaxTime = max(s.MaxTime, c.Time)
	if c.IP != "" {
		if c.FirstOfIP {
			s.UniqueIPs++
		}
		if c.CrossedBF {
			s.BruteIPs++
		}
		s.TopEvents = raise(s.TopEvents, c.IP, c.IPEvents)
		if c.IPFailed > 0 {
			s.TopFailed = raise(s.TopFailed, c.IP, c.IPFailed)
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

// DayKeyPrefix starts the key of every per-day aggregate.
const DayKeyPrefix = "d|"

// DayKey is the days topic's key of day's aggregate for partition p.
func DayKey(day string, p int32) string {
	return DayKeyPrefix + day + "|" + strconv.Itoa(int(p))
}

// Day state codec.

func (s *DayState) appendTo(b []byte) []byte {
	w := stage.Writer{B: append(b, kindDayState)}
	w.Str(s.Day)
	w.Varint(int64(s.Partition))
	w.Varint(s.Wm)
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
	s.Wm = r.Varint()
	s.readCounts(r)
}

// readCounts reads what follows the watermark, the same in both
// generations of the encoding (legacy.go).
func (s *DayState) readCounts(r *stage.Reader) {
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
