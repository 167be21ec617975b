// Package ipstage is log_monitor's IP stage, the goka group (DefaultGroup)
// that keeps per-IP state and per-day aggregates in its table and emits the
// per-IP rules' alerts to ssh-alerts; the day aggregates feed the
// metrics-daily documents (processors/daily).
//
// One event through the group (all keyed, all in Kafka):
//
//	ssh-log (key row_hash, partitioned by IP; partitions shared by the instances)
//	-> input handler: decode, compute day and hour in the report zone
//	     - event with an IP:     loopback key IP            -> IP handler
//	     - event without an IP:  loopback key "d|day|P"     -> day handler (stream A)
//	-> IP handler: per-IP rules (detect.IPState), the IP's per-day counts;
//	     emits alerts, and one DayDelta to "d|day|P" (stream B), P = the IP's partition
//	-> day handler: adds the delta to the day's aggregate of partition P
//	-> metrics emitter (processors/daily, outside the group): merges a day's
//	     partitions into its metrics-daily document
//
// Replays (goka is at-least-once) are harmless: every state keeps, per
// source partition of ssh-log, the last offset it applied; a message at or
// below it changes nothing, but emits again exactly what it emitted the first
// time (its DayDelta with the same offset, its alerts with the same ids) and
// writes the state again, so outputs lost in a crash are restored and
// consumers drop the ones they already have. The machinery around the
// group (in-order commits, the write-behind store, the committed offsets
// that prune kept alerts) is processors/exactly's.
package ipstage

import (
	"strconv"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// DefaultGroup is the group's name; its table is DefaultGroup+"-table".
const DefaultGroup = "logmon-tracker"

// Config is what the group needs.
type Config struct {
	stage.Base
	// Group is the goka group and Input the ssh-log topic.
	Group, Input string
}

// Stage is the group's processing logic (the goka callbacks).
type Stage struct {
	stage.Base
	group, input string
	guard        exactly.Guard
	now          func() time.Time
}

// New returns the group's logic; guard is its exactness machinery.
func New(cfg Config, guard exactly.Guard) *Stage {
	return &Stage{Base: cfg.Base, group: cfg.Group, input: cfg.Input, guard: guard, now: time.Now}
}

// Graph defines the goka group: ssh-log in, a loopback that re-keys events
// by IP and deltas by day, alerts out, and the table of IP records and day
// aggregates.
func (s *Stage) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(s.group),
		goka.Input(goka.Stream(s.input), new(codec.Bytes), s.handleInput),
		goka.Loop(LoopCodec{}, s.loop),
		goka.Output(goka.Stream(s.Alerts), stage.AlertCodec{}),
		goka.Persist(TableCodec{}),
	)
}

// Group is the goka group.
func (s *Stage) Group() string { return s.group }

// TableTopic is the group's table topic.
func (s *Stage) TableTopic() string { return string(goka.GroupTable(goka.Group(s.group))) }

// handleInput handles one ssh-log record: it routes the event to its IP
// or, without one, straight to its day.
func (s *Stage) handleInput(ctx goka.Context, msg interface{}) {
	e, ok := s.Decode(ctx, msg)
	if !ok {
		s.M.BadInput.Inc()
		return
	}
	s.M.Event(ctx.Partition())
	s.route(ctx, e)
}

// route sends an event to its IP or, without one, straight to its day.
func (s *Stage) route(ctx goka.Context, e *stage.Event) {
	if e.IP != "" {
		ctx.Loopback(e.IP, e)
		return
	}
	ctx.Loopback(DayKey(e.Day, ctx.Partition()), &DayDelta{Stream: 'A', Src: e.Src, Offset: e.Offset, Time: e.Time, Hour: e.Hour, Error: e.Error})
}

// loop dispatches a loopback message by its kind.
func (s *Stage) loop(ctx goka.Context, msg interface{}) {
	switch m := msg.(type) {
	case *DayDelta:
		s.day(ctx, m)
	case *stage.Event:
		s.ip(ctx, m)
	}
}

// day adds a delta to the day's aggregate of one partition.
func (s *Stage) day(ctx goka.Context, d *DayDelta) {
	st, _ := ctx.Value().(*DayState)
	if st == nil {
		st = &DayState{Day: dayOfKey(ctx.Key()), Partition: partitionOfKey(ctx.Key())}
	}
	if !st.apply(d, s.now()) {
		s.M.Replayed.WithLabelValues("day").Inc()
	}
	// Written also for a replay: the table topic may have lost the write
	// that the local store already holds.
	ctx.SetValue(st)
}

func partitionOfKey(k string) int32 {
	if len(k) > 13 {
		n, _ := strconv.Atoi(k[13:])
		return int32(n)
	}
	return 0
}

func dayOfKey(k string) string {
	if len(k) >= 12 {
		return k[2:12]
	}
	return ""
}
