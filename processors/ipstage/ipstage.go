// Package ipstage is log_monitor's IP stage, the goka group (DefaultGroup)
// that keeps per-IP state in its table and per-day aggregates in its days
// topic, and emits the per-IP rules' alerts to ssh-alerts; the day
// aggregates feed the metrics-daily documents (processors/daily).
//
// One event through the group:
//
//	ssh-log (key row_hash, partitioned by IP; partitions shared by the instances)
//	-> read by the group's consumer, which presents the record decoded and
//	   under its IP as key (Present): the record already sits on the IP's
//	   partition, so no loopback re-keys it
//	-> input handler: per-IP rules and the IP's per-day counts (the table
//	   record of the IP, written at every event of it); emits alerts
//	-> the same handler adds the event to its day's aggregate of the
//	   partition, in memory (days.go); the group's Window writes the changed
//	   aggregates to the days topic (key "d|day|P") every 100 ms and only
//	   then lets the inputs they hold be committed
//	-> metrics emitter (processors/daily, outside the group): merges a day's
//	   partitions into its metrics-daily document
//
// Replays (goka is at-least-once) are harmless: the IP record and each day
// aggregate keep the last ssh-log offset they applied; an event at or below
// it changes nothing, but emits again exactly what it emitted the first
// time (its alerts with the same ids) and writes the IP record again, so
// outputs lost in a crash are restored and consumers drop the ones they
// already have. The machinery around the group (in-order commits, the
// presented records, the window, the committed offsets that prune kept
// alerts) is processors/exactly's.
package ipstage

import (
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// DefaultGroup is the group's name; its table is DefaultGroup+"-table".
const DefaultGroup = "logmon-tracker"

// DaysTopic is the topic of group's day aggregates.
func DaysTopic(group string) string { return group + "-days" }

// Config is what the group needs.
type Config struct {
	stage.Base
	// Group is the goka group and Input the ssh-log topic.
	Group, Input string
	// Partitions of ssh-log (config.Kafka.PartitionCount).
	Partitions int
	// ReadTable reads the group's table topic, for the day aggregates of
	// an install upgraded from the first generation (legacy.go); nil: none.
	ReadTable func() ([]exactly.Record, error)
}

// Stage is the group's processing logic (the goka callbacks).
type Stage struct {
	stage.Base
	group, input string
	partitions   int32
	readTable    func() ([]exactly.Record, error)
	guard        exactly.Guard
	days         *dayBook
	records      *recordBook
	now          func() time.Time
}

// New returns the group's logic; guard is its exactness machinery.
func New(cfg Config, guard exactly.Guard) *Stage {
	return &Stage{Base: cfg.Base, group: cfg.Group, input: cfg.Input, partitions: int32(cfg.Partitions), readTable: cfg.ReadTable,
		guard: guard, days: newDayBook(), records: newRecordBook(), now: time.Now}
}

// Graph defines the goka group: ssh-log in (presented by IP), alerts out,
// and the table of IP records.
func (s *Stage) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(s.group),
		goka.Input(goka.Stream(s.input), new(codec.Bytes), s.handleInput),
		goka.Output(goka.Stream(s.Alerts), stage.AlertCodec{}),
		goka.Persist(TableCodec{}),
	)
}

// Group is the goka group.
func (s *Stage) Group() string { return s.group }

// TableTopic is the group's table topic.
func (s *Stage) TableTopic() string { return string(goka.GroupTable(goka.Group(s.group))) }

// DaysTopic is the group's days topic.
func (s *Stage) DaysTopic() string { return DaysTopic(s.group) }

// Present rewrites an ssh-log record as the group's handler takes it: the
// event decoded (stage.Event's binary form) and, when it has an IP, keyed by
// the IP, unless it is not on the IP's partition (the handler then counts
// it in its day's totals only). A record that does not decode is left as it
// is; the handler reports it. It runs in the consumer's goroutine
// (exactly.Config.Present).
func (s *Stage) Present(m *sarama.ConsumerMessage) {
	e, err := s.DecodeRecord(m.Value, m.Partition, m.Offset)
	if err != nil {
		return
	}
	if e.IP != "" && kafkaconfig.Partition([]byte(e.IP), s.partitions) == m.Partition {
		m.Key = []byte(e.IP)
	}
	m.Value = e.AppendTo(make([]byte, 0, 96+len(e.User)+len(e.IP)+len(e.Host)+len(e.Type)))
}

// handleInput handles one ssh-log record: the IP's record and rules, then
// the day's aggregate.
func (s *Stage) handleInput(ctx goka.Context, msg interface{}) {
	e, ok := s.event(ctx, msg.([]byte))
	if !ok {
		s.M.BadInput.Inc()
		return
	}
	s.M.Event(ctx.Partition())
	c := contribution{Offset: e.Offset, Time: e.Time, Hour: e.Hour, Error: e.Error, IP: e.IP}
	p := ctx.Partition()
	// Under the window's lock of the partition: the window reads the
	// changed IP records and day aggregates while it writes them.
	s.guard.Change(ctx, func() {
		switch {
		case e.IP == "":
		case ctx.Key() != e.IP:
			// Its IP's state lives on another partition, out of reach.
			s.M.Misplaced.Inc()
			s.Log.Error("ssh-log record not on its IP's partition: counted in its day's totals only; producers of ssh-log must partition by goka's hash of the IP",
				"partition", p, "offset", ctx.Offset(), "ip", e.IP)
			c.IP = ""
		default:
			s.ip(ctx, e, &c)
		}
		if !s.days.add(p, e.Day, &c, s.now()) {
			s.M.Replayed.WithLabelValues("day").Inc()
		}
	})
}

// event decodes a presented record (or, in goka's tester, the ssh-log JSON).
func (s *Stage) event(ctx goka.Context, b []byte) (*stage.Event, bool) {
	if len(b) > 0 && b[0] == stage.KindEvent {
		e, err := stage.EventCodec{}.Decode(b)
		if err == nil {
			return e.(*stage.Event), true
		}
		s.Log.Warn("undecodable presented ssh-log record skipped", "partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		return nil, false
	}
	return s.Decode(ctx, b)
}

// Collect implements exactly.Windowed: partition p's changed day aggregates
// and IP records.
func (s *Stage) Collect(p int32) []exactly.Record {
	recs, err := s.records.collect(p, s.TableTopic())
	if err != nil {
		// An IP record that does not encode is a bug; its inputs are held
		// back from the commit, so nothing is lost meanwhile.
		s.Log.Error("IP records not written", "partition", p, "err", err)
	}
	return append(recs, s.days.collect(p)...)
}

// Restore implements exactly.Windowed: partition p's day aggregates from
// the days topic (its IP records are in the table goka recovered).
func (s *Stage) Restore(p int32, recs []exactly.Record) error {
	s.records.reset(p)
	return s.days.restore(p, recs, s.readTable)
}

// Written implements exactly.Windowed: the IP records now in the store.
func (s *Stage) Written(p int32, recs []exactly.Record) { s.records.written(p, recs) }

// DayParts returns the day aggregates this instance holds in memory, by
// day (for tests on goka's tester; the views read the days topic).
func (s *Stage) DayParts() map[string][]*DayState { return s.days.all() }
