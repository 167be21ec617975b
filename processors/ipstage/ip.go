package ipstage

import (
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// KeepDays is how many of an IP's most recent days keep their counts: the
// day aggregates need them for the IP's events of those days (late lines
// older than that count in the day's totals but not in its per-IP figures).
const KeepDays = 3

// IPDay is an IP's activity on one day.
type IPDay struct {
	Day    string
	Events int64
	Failed int64
	// First and Cross are the ssh-log positions of the IP's first event of
	// the day and of the event that took its failed attempts to
	// contracts.DailyBruteForceMark: a replay of that input counts its
	// transition in the day's aggregate again, if the aggregate lost it.
	First, Cross stage.Pos
}

// IPRecord is the table value of one IP.
type IPRecord struct {
	// Wm is the last applied ssh-log offset per source partition.
	Wm     []int64
	Days   []IPDay
	Detect detect.IPState
	Recent []stage.Kept
}

func (r *IPRecord) applied(e *stage.Event) bool {
	return int(e.Src) < len(r.Wm) && e.Offset <= r.Wm[e.Src]
}

func (r *IPRecord) mark(e *stage.Event) {
	for int(e.Src) >= len(r.Wm) {
		r.Wm = append(r.Wm, -1)
	}
	r.Wm[e.Src] = e.Offset
}

// dayOf returns the IP's record of day (creating it, and dropping the
// oldest beyond KeepDays), or nil for a day older than every kept one when
// KeepDays are kept.
func (r *IPRecord) dayOf(day string, create bool) *IPDay {
	for i := range r.Days {
		if r.Days[i].Day == day {
			return &r.Days[i]
		}
	}
	if !create {
		return nil
	}
	if len(r.Days) >= KeepDays {
		oldest := 0
		for i := range r.Days {
			if r.Days[i].Day < r.Days[oldest].Day {
				oldest = i
			}
		}
		if day < r.Days[oldest].Day {
			return nil
		}
		r.Days = append(r.Days[:oldest], r.Days[oldest+1:]...)
	}
	r.Days = append(r.Days, IPDay{Day: day, First: stage.Pos{Src: -1, Offset: -1}, Cross: stage.Pos{Src: -1, Offset: -1}})
	return &r.Days[len(r.Days)-1]
}

// ip applies one event to its IP's record (the value of ctx's key) and
// fills in what the IP's counts say about the event's day. A replayed event
// changes nothing but emits again what it emitted the first time.
func (s *Stage) ip(ctx goka.Context, e *stage.Event, c *contribution) {
	p := ctx.Partition()
	r := s.records.get(p, e.IP)
	if r == nil {
		r, _ = ctx.Value().(*IPRecord)
	}
	if r == nil {
		r = &IPRecord{}
	}
	if r.applied(e) {
		s.M.Replayed.WithLabelValues("ip").Inc()
		s.Reemit(ctx, r.Recent, e)
	} else {
		r.mark(e)
		r.Recent = stage.Forget(r.Recent, r.Wm, s.guard.Committed(ctx.Partition()))
		if d := r.dayOf(e.Day, true); d != nil {
			if d.Events == 0 {
				d.First = stage.Pos{Src: e.Src, Offset: e.Offset}
			}
			d.Events++
			before := d.Failed
			d.Failed += int64(e.Failed)
			if before < contracts.DailyBruteForceMark && d.Failed >= contracts.DailyBruteForceMark {
				d.Cross = stage.Pos{Src: e.Src, Offset: e.Offset}
			}
		}
		r.Detect.Apply(&s.Rules, e.DetectEvent(), func(a contracts.Alert) {
			r.Recent = s.Remember(ctx, r.Recent, e, a)
			s.EmitAlert(ctx, a)
		})
	}
	if d := r.dayOf(e.Day, false); d != nil {
		c.FirstOfIP = d.First.Is(e)
		c.CrossedBF = d.Cross.Is(e)
		c.IPEvents, c.IPFailed = d.Events, d.Failed
	} else {
		s.Log.Warn("event older than the IP's kept days: counted in the day's totals only", "ip", e.IP, "day", e.Day)
	}
	// Written also for a replay: the table topic may have lost the write
	// that the local store already holds. With a window the record is
	// written once per window; goka's tester has none.
	if s.guard.Windowed() {
		s.records.changed(p, e.IP, r)
	} else {
		ctx.SetValue(r)
	}
}
