package tracker_test

import (
	"bufio"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
)

// parseFile parses every line of path the way ingest does (year, zone).
func parseFile(t *testing.T, path string, year int, loc *time.Location) []contracts.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := sshlog.NewParser(sshlog.Source{Path: path, Year: year, Loc: loc}, nil)
	br := bufio.NewReaderSize(f, 1<<20)
	var out []contracts.Event
	var off int64
	now := time.Now()
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			out = append(out, p.Parse(line, off, now))
			off += int64(len(line))
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// batchDaily computes the metric definitions of docs/contracts.md directly over the events:
// the plain batch count the streaming documents must equal.
func batchDaily(events []contracts.Event, loc *time.Location) map[string]contracts.DailyMetrics {
	type day struct {
		total, errors int64
		hourly        [24]int64
		events        map[string]int64
		failed        map[string]int64
	}
	days := map[string]*day{}
	for i := range events {
		e := &events[i]
		t := e.EventTime.In(loc)
		k := t.Format("2006-01-02")
		d := days[k]
		if d == nil {
			d = &day{events: map[string]int64{}, failed: map[string]int64{}}
			days[k] = d
		}
		d.total++
		if e.LogLevel == contracts.LevelError {
			d.errors++
		}
		d.hourly[t.Hour()]++
		if e.IP != "" {
			d.events[e.IP]++
			if n := e.FailedAttempts(); n > 0 {
				d.failed[e.IP] += int64(n)
			}
		}
	}
	out := map[string]contracts.DailyMetrics{}
	for k, d := range days {
		m := contracts.DailyMetrics{MetricDate: k, TotalLogs: d.total, ErrorCount: d.errors, UniqueIPs: int64(len(d.events)),
			HourlyLogs: d.hourly[:], TopIPList: top3(d.events), TopBruteList: top3(d.failed)}
		for h, n := range d.hourly {
			if n > m.PeakHourLogs {
				m.PeakHour, m.PeakHourLogs = h, n
			}
		}
		for _, n := range d.failed {
			if n >= contracts.DailyBruteForceMark {
				m.BruteForceIPs++
			}
		}
		m.HourlyLogs = append([]int64(nil), d.hourly[:]...)
		out[k] = m
	}
	return out
}

func top3(counts map[string]int64) []contracts.IPCount {
	all := make([]contracts.IPCount, 0, len(counts))
	for ip, n := range counts {
		all = append(all, contracts.IPCount{IP: ip, Cnt: n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Cnt != all[j].Cnt {
			return all[i].Cnt > all[j].Cnt
		}
		return all[i].IP < all[j].IP
	})
	if len(all) > 3 {
		all = all[:3]
	}
	return all
}
