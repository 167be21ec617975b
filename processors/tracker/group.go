// Package tracker is log_monitor's Goka group: it keeps per-IP state,
// per-user state and per-day aggregates in one Kafka-backed LevelDB table,
// emits alerts to ssh-alerts, and feeds the metrics-daily documents.
//
// One event through the group (all keyed, all in Kafka):
//
//	ssh-log (key row_hash, partitioned by IP)
//	  -> input handler: decode, compute day and hour in the report zone
//	       - event with an IP:     loopback key IP            -> IP handler
//	       - failure with a user:  loopback key "u|"+user     -> user handler (distributed_attack)
//	       - event without an IP:  loopback key "d|day|P"     -> day handler (stream A)
//	  -> IP handler: per-IP rules (detect.IPState), the IP's per-day counts;
//	       emits alerts, and one DayDelta to "d|day|P" (stream B), P = the IP's partition
//	  -> day handler: adds the delta to the day's aggregate of partition P
//	  -> metrics emitter (processors/daily, outside the group): merges a day's
//	       partitions into its metrics-daily document
//
// Replays (goka is at-least-once) are harmless: every state keeps, per
// source partition of ssh-log, the last offset it applied; a message at or
// below it changes nothing, but emits again exactly what it emitted the first
// time (its DayDelta with the same offset, its alerts with the same ids) and
// writes the state again, so outputs lost in a crash are restored and
// consumers drop the ones they already have.
package tracker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/topics"
)

// DefaultGroup is the group's name; its table is DefaultGroup+"-table".
const DefaultGroup = "logmon-tracker"

// Config is what the group needs.
type Config struct {
	Kafka config.Kafka
	// Group, Input and Alerts default to the contract's names.
	Group  string
	Input  string
	Alerts string
	Rules  detect.Rules
	// ReportLoc is the zone whose calendar days make metric_date.
	ReportLoc *time.Location
	// StorageDir holds the group's LevelDB partitions.
	StorageDir string
	// OnAssign, if set, is told the partitions of every rebalance.
	OnAssign func(goka.Assignment)
	// NoPace turns off the event-time merge of the input partitions
	// (pace.go): replays go faster, but distributed_attack may miss
	// attacks while partitions drift apart.
	NoPace bool
}

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Input == "" {
		c.Input = topics.SSHLog
	}
	if c.Alerts == "" {
		c.Alerts = topics.SSHAlerts
	}
	if c.ReportLoc == nil {
		c.ReportLoc = time.UTC
	}
}

// Tracker is the group's processing logic (the goka callbacks).
type Tracker struct {
	cfg Config
	log *slog.Logger
	m   *Metrics
	now func() time.Time
	// commits is the group's committed loopback offsets (nil: unknown).
	commits *commits
	// pace keeps this instance's input partitions together in event time
	// (nil: no pacing, as in goka's tester).
	pace *pacer
}

// New returns the group's logic; m may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) *Tracker {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Tracker{cfg: cfg, log: log, m: m, now: time.Now}
}

// OnAssign sets a function told the partitions of every rebalance (the
// group's own rebalance callback wins over one given to Run).
func (t *Tracker) OnAssign(f func(goka.Assignment)) { t.cfg.OnAssign = f }

// Graph defines the goka group.
func (t *Tracker) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(t.cfg.Group),
		goka.Input(goka.Stream(t.cfg.Input), new(codec.Bytes), t.input),
		goka.Loop(LoopCodec{}, t.loop),
		goka.Output(goka.Stream(t.cfg.Alerts), AlertCodec{}),
		goka.Persist(TableCodec{}),
	)
}

// TableTopic is the group's table topic.
func (t *Tracker) TableTopic() string { return string(goka.GroupTable(goka.Group(t.cfg.Group))) }

// Topics are every topic the group uses, goka's own included, so the
// bootstrap creates them all before any instance starts (two instances
// racing to create the loop topic made one of them exit).
func (t *Tracker) Topics() []topics.Spec {
	gg := t.Graph()
	return []topics.Spec{
		{Name: t.cfg.Input, Partitions: 3},
		{Name: t.cfg.Alerts, Partitions: 3},
		{Name: gg.GroupTable().Topic(), Partitions: 3, Compacted: true},
		{Name: gg.LoopStream().Topic(), Partitions: loopPartitions, Retention: kafkaconfig.StreamRetention},
	}
}

// loopPartitions is the partition count of the group's loopback topic.
const loopPartitions = 3

// EnsureTopics creates the contract's topics and the group's own.
func (t *Tracker) EnsureTopics(ctx context.Context) error {
	_, err := topics.Ensure(ctx, t.cfg.Kafka, append(topics.Contract(), t.Topics()...), t.log)
	return err
}

// Run ensures the topics and runs one processor instance until ctx ends.
// Several instances share the partitions.
func (t *Tracker) Run(ctx context.Context, opts ...goka.ProcessorOption) error {
	if err := t.EnsureTopics(ctx); err != nil {
		return err
	}
	all := append(kafkaconfig.ProcessorOptions(t.cfg.Kafka),
		goka.WithStorageBuilder(StorageBuilder(t.cfg.StorageDir)),
		goka.WithPartitionChannelSize(4096),
		goka.WithLogger(gokaLogger{t.log}),
	)
	if !t.cfg.NoPace {
		t.pace = newPacer()
		t.pace.escaped = func() {
			t.m.paceEscapes.Inc()
			t.log.Warn("event-time merge: an event waited its limit for a slower partition and went ahead", "limit", maxPaceWait)
		}
	}
	onAssign := t.cfg.OnAssign
	opts = append(opts, goka.WithRebalanceCallback(func(a goka.Assignment) {
		parts := make([]int32, 0, len(a))
		for p := range a {
			parts = append(parts, p)
		}
		t.pace.assign(parts)
		if onAssign != nil {
			onAssign(a)
		}
	}))
	p, err := goka.NewProcessor(t.cfg.Kafka.Brokers, t.Graph(), append(all, opts...)...)
	if err != nil {
		return fmt.Errorf("tracker processor: %w", err)
	}
	loop := t.Graph().LoopStream().Topic()
	t.commits = newCommits(loopPartitions)
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		followed <- t.commits.follow(followCtx, t.cfg.Kafka.Brokers, t.cfg.Group, loop, 500*time.Millisecond)
	}()
	if t.pace != nil {
		go t.pace.wake(followCtx, time.Second)
		go func() {
			if err := t.pace.followEnds(followCtx, t.cfg.Kafka.Brokers, t.cfg.Group, t.cfg.Input, 100*time.Millisecond); err != nil {
				t.log.Warn("input ends not followed: the event-time merge waits its limit for partitions without input", "err", err)
			}
		}()
	}
	err = p.Run(ctx)
	stopFollow()
	if ferr := <-followed; ferr != nil {
		t.log.Warn("committed offsets not followed: kept alerts pruned by offset distance only", "err", ferr)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("tracker processor: %w", err)
	}
	return nil
}

// input handles one ssh-log record: it routes the event to its IP, its
// user (failures only) and, without an IP, straight to its day.
func (t *Tracker) input(ctx goka.Context, msg interface{}) {
	var ev sshlog.Event
	if err := ev.UnmarshalJSON(msg.([]byte)); err != nil {
		// Not an event of ours: counted and skipped, never fatal.
		t.m.badInput.Inc()
		t.log.Warn("undecodable ssh-log record skipped", "partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		t.pace.skip(ctx.Partition(), ctx.Offset())
		return
	}
	e := t.compact(&ev, ctx.Partition(), ctx.Offset())
	t.m.event(ctx.Partition())
	if !e.toUser() {
		// Only a user's failures need the merge: the IP's events are in
		// order on their partition already.
		t.pace.pass(ctx.Partition(), ctx.Offset(), e.Time)
		t.route(ctx, e)
		return
	}
	t.pace.hold(ctx.Context(), ctx.Partition(), ctx.Offset(), e.Time)
	t.route(ctx, e)
	t.pace.release()
}

// route sends an event to its IP (or, without one, straight to its day)
// and, for a failure with a user, to the user.
func (t *Tracker) route(ctx goka.Context, e *Event) {
	if e.IP != "" {
		ctx.Loopback(e.IP, e)
	} else {
		ctx.Loopback(DayKey(e.Day, ctx.Partition()), &DayDelta{Stream: 'A', Src: e.Src, Offset: e.Offset, Time: e.Time, Hour: e.Hour, Error: e.Error})
	}
	if e.toUser() {
		ctx.Loopback(userKeyPrefix+e.User, e)
	}
}

// toUser reports whether the event goes to its user's state too.
func (e *Event) toUser() bool { return e.Failed > 0 && e.User != "" }

const userKeyPrefix = "u|"

// compact keeps what the group needs of an event.
func (t *Tracker) compact(ev *sshlog.Event, src int32, off int64) *Event {
	local := ev.EventTime.In(t.cfg.ReportLoc)
	return &Event{
		Src: src, Offset: off, Time: ev.EventTime.Unix(),
		Day: local.Format("2006-01-02"), Hour: uint8(local.Hour()),
		Error: ev.LogLevel == sshlog.LevelError, Failed: int32(ev.FailedAttempts()),
		Type: ev.EventType, ErrorType: ev.ErrorType, User: ev.User, IP: ev.IP, Host: ev.HostName, RowHash: ev.RowHash,
	}
}

// loop dispatches a loopback message by its kind and key.
func (t *Tracker) loop(ctx goka.Context, msg interface{}) {
	switch m := msg.(type) {
	case *DayDelta:
		t.day(ctx, m)
	case *Event:
		if len(ctx.Key()) > len(userKeyPrefix) && ctx.Key()[:len(userKeyPrefix)] == userKeyPrefix {
			t.user(ctx, m)
		} else {
			t.ip(ctx, m)
		}
	}
}

// day adds a delta to the day's aggregate of one partition.
func (t *Tracker) day(ctx goka.Context, d *DayDelta) {
	s, _ := ctx.Value().(*DayState)
	if s == nil {
		s = &DayState{Day: dayOfKey(ctx.Key()), Partition: partitionOfKey(ctx.Key())}
	}
	if !s.apply(d, t.now()) {
		t.m.replayed.WithLabelValues("day").Inc()
	}
	// Written also for a replay: the table topic may have lost the write
	// that the local store already holds.
	ctx.SetValue(s)
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

// gokaLogger routes goka's logging into slog at debug level.
type gokaLogger struct{ log *slog.Logger }

func (g gokaLogger) Print(v ...interface{})   { g.log.Debug(fmt.Sprint(v...), "component", "goka") }
func (g gokaLogger) Println(v ...interface{}) { g.log.Debug(fmt.Sprint(v...), "component", "goka") }
func (g gokaLogger) Printf(format string, v ...interface{}) {
	g.log.Debug(fmt.Sprintf(format, v...), "component", "goka")
}

// Lag is how many input and loopback records the group has not committed.
func (t *Tracker) Lag(ctx context.Context) (int64, error) {
	gg := t.Graph()
	return topics.GroupLag(ctx, t.cfg.Kafka, t.cfg.Group, []string{t.cfg.Input, gg.LoopStream().Topic()})
}

// Backlog is Lag for callers without an error path: -1 when the lag could
// not be read.
func (t *Tracker) Backlog(ctx context.Context) int64 {
	lag, err := t.Lag(ctx)
	if err != nil {
		return -1
	}
	return lag
}

// Busy reports whether the group has input left (errors count as busy).
func (t *Tracker) Busy(ctx context.Context) bool { return t.Backlog(ctx) != 0 }

// WaitCaughtUp returns once the group has committed everything it was
// given (three checks in a row, since loopback messages of the last inputs
// may still be on their way), or ctx ends.
func (t *Tracker) WaitCaughtUp(ctx context.Context) error {
	for streak := 0; streak < 3; {
		lag, err := t.Lag(ctx)
		if err == nil && lag == 0 {
			streak++
		} else {
			streak = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// StorageBuilder is the LevelDB storage of the group's table, for the
// processor and its views: a 16 MiB write buffer makes memtable flushes
// and compactions rare for a table that is rewritten at every event.
func StorageBuilder(dir string) storage.Builder {
	return storage.BuilderWithOptions(dir, &opt.Options{WriteBuffer: 16 << 20, CompactionTableSize: 8 << 20})
}
