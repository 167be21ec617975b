package tracker

import (
	"fmt"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// KeepDays is how many of an IP's most recent days keep their counts: the
// day aggregates need them for the IP's events of those days (late lines
// older than that count in the day's totals but not in its per-IP figures).
const KeepDays = 3

// An IP's (or user's) alerts are kept to be emitted again when the input
// that raised them is replayed, until the group has committed the loopback
// message that raised them (see commits): below the committed offset nothing
// is replayed and every output is in Kafka. Where the committed offset is
// not known (goka's tester, the first second of a run) an alert is kept
// until its source partition has moved keepOffsets past its input: a crash
// loses only outputs still in the producer's backlog, some tens of
// thousands of messages. At most keepAlerts are kept (an attack's onset
// raises up to 24: 6 rules, 4 levels).
const (
	keepAlerts  = 24
	keepOffsets = 100_000
)

// IPDay is an IP's activity on one day.
type IPDay struct {
	Day    string
	Events int64
	Failed int64
	// First and Cross are the ssh-log positions of the IP's first event of
	// the day and of the event that took its failed attempts to
	// contracts.DailyBruteForceMark: a replay of that input re-emits its transition.
	First, Cross Pos
}

// Pos is a position in ssh-log.
type Pos struct {
	Src    int32
	Offset int64
}

func (p Pos) is(e *Event) bool { return p.Src == e.Src && p.Offset == e.Offset }

// emitted is an alert kept with the input position that raised it.
type emitted struct {
	At Pos
	// Loop is the offset of the loopback message that raised it.
	Loop int64
	// Alert is the alert's binary form (contracts.Alert.AppendBinary): kept
	// alerts are carried through every event of their key but decoded
	// only to be emitted again, so they stay encoded (decoding and
	// encoding them at every event was 15% of the processor's CPU).
	Alert []byte
}

// IPRecord is the table value of one IP.
type IPRecord struct {
	// Wm is the last applied ssh-log offset per source partition.
	Wm     []int64
	Days   []IPDay
	Detect detect.IPState
	Recent []emitted
}

func (r *IPRecord) applied(e *Event) bool {
	return int(e.Src) < len(r.Wm) && e.Offset <= r.Wm[e.Src]
}

func (r *IPRecord) mark(e *Event) {
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
	r.Days = append(r.Days, IPDay{Day: day, First: Pos{-1, -1}, Cross: Pos{-1, -1}})
	return &r.Days[len(r.Days)-1]
}

// ip applies one event to its IP's record. A replayed event changes
// nothing but emits again what it emitted the first time.
func (t *Tracker) ip(ctx goka.Context, e *Event) {
	r, _ := ctx.Value().(*IPRecord)
	if r == nil {
		r = &IPRecord{}
	}
	replay := r.applied(e)
	if replay {
		t.m.replayed.WithLabelValues("ip").Inc()
		t.reemit(ctx, r.Recent, e)
	} else {
		r.mark(e)
		r.Recent = forget(r.Recent, r.Wm, t.ipx.Committed(ctx.Partition()))
		if d := r.dayOf(e.Day, true); d != nil {
			if d.Events == 0 {
				d.First = Pos{e.Src, e.Offset}
			}
			d.Events++
			before := d.Failed
			d.Failed += int64(e.Failed)
			if before < contracts.DailyBruteForceMark && d.Failed >= contracts.DailyBruteForceMark {
				d.Cross = Pos{e.Src, e.Offset}
			}
		}
		r.Detect.Apply(&t.cfg.Rules, e.detectEvent(), func(a contracts.Alert) {
			r.Recent = t.remember(ctx, r.Recent, e, a)
			t.emitAlert(ctx, a)
		})
	}
	delta := &DayDelta{Stream: 'B', Src: e.Src, Offset: e.Offset, Time: e.Time, Hour: e.Hour, Error: e.Error, IP: e.IP}
	if d := r.dayOf(e.Day, false); d != nil {
		delta.FirstOfIP = d.First.is(e)
		delta.CrossedBF = d.Cross.is(e)
		delta.IPEvents, delta.IPFailed = d.Events, d.Failed
	} else {
		t.log.Warn("event older than the IP's kept days: counted in the day's totals only", "ip", e.IP, "day", e.Day)
	}
	ctx.Loopback(DayKey(e.Day, ctx.Partition()), delta)
	ctx.SetValue(r)
}

// remember keeps alert a, raised by e (the loopback message ctx handles).
func (t *Tracker) remember(ctx goka.Context, recent []emitted, e *Event, a contracts.Alert) []emitted {
	b, err := a.AppendBinary(nil)
	if err != nil {
		ctx.Fail(fmt.Errorf("keep alert %s: %w", a.ID, err))
	}
	recent = append(recent, emitted{At: Pos{e.Src, e.Offset}, Loop: ctx.Offset(), Alert: b})
	if len(recent) > keepAlerts {
		recent = recent[len(recent)-keepAlerts:]
	}
	return recent
}

// forget drops the alerts that can no longer need re-emission: raised below
// the group's committed loopback offset (-1: unknown), or else whose source
// partition has moved keepOffsets past their input (wm: the applied offset
// per source partition).
func forget(recent []emitted, wm []int64, committed int64) []emitted {
	kept := recent[:0]
	for _, a := range recent {
		if committed >= 0 && a.Loop < committed {
			continue
		}
		if int(a.At.Src) < len(wm) && a.At.Offset < wm[a.At.Src]-keepOffsets {
			continue
		}
		kept = append(kept, a)
	}
	return kept
}

// reemit sends again the alerts that e raised the first time.
func (t *Tracker) reemit(ctx goka.Context, recent []emitted, e *Event) {
	for _, a := range recent {
		if !a.At.is(e) {
			continue
		}
		var alert contracts.Alert
		if err := alert.UnmarshalBinary(a.Alert); err != nil {
			ctx.Fail(fmt.Errorf("kept alert of %s/%d: %w", ctx.Key(), e.Offset, err))
		}
		t.emitAlert(ctx, alert)
	}
}

// emitAlert sends an alert to ssh-alerts, keyed by its IP (or user).
func (t *Tracker) emitAlert(ctx goka.Context, a contracts.Alert) {
	key := a.IP
	if key == "" {
		key = a.User
	}
	t.m.alerts.WithLabelValues(a.Rule).Inc()
	ctx.Emit(goka.Stream(t.cfg.Alerts), key, &a)
}

// detectEvent is the event as the rule engine takes it.
func (e *Event) detectEvent() detect.Event {
	return detect.Event{Time: e.Time, Offset: e.Offset, Type: e.Type, ErrorType: e.ErrorType,
		User: e.User, IP: e.IP, Host: e.Host, RowHash: e.RowHash, Failed: int(e.Failed)}
}
