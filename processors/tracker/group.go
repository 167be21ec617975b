// Package tracker is log_monitor's pair of Goka groups: the IP stage keeps
// per-IP state and per-day aggregates in its Kafka-backed LevelDB table, the
// user stage (group name + "-users") per-user state in its own; both emit
// alerts to ssh-alerts, and the day aggregates feed the metrics-daily
// documents.
//
// One event through the groups (all keyed, all in Kafka):
//
//	ssh-log (key row_hash, partitioned by IP)
//	  IP stage, partitions shared by the instances:
//	  -> input handler: decode, compute day and hour in the report zone
//	       - event with an IP:     loopback key IP            -> IP handler
//	       - event without an IP:  loopback key "d|day|P"     -> day handler (stream A)
//	  -> IP handler: per-IP rules (detect.IPState), the IP's per-day counts;
//	       emits alerts, and one DayDelta to "d|day|P" (stream B), P = the IP's partition
//	  -> day handler: adds the delta to the day's aggregate of partition P
//	  -> metrics emitter (processors/daily, outside the group): merges a day's
//	       partitions into its metrics-daily document
//	  user stage, every partition in one instance at a time (user.go):
//	  -> input handler: decode; a failure with a user, in event time order
//	       across the partitions (pace.go): loopback key "u|"+user
//	  -> user handler: distributed_attack (detect.UserState); emits alerts
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
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/exactly"
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
	// NoPace turns off the user stage's event-time merge of the input partitions
	// (pace.go): replays go faster, but distributed_attack may miss
	// attacks while partitions drift apart.
	NoPace bool
}

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Input == "" {
		c.Input = contracts.TopicSSHLog
	}
	if c.Alerts == "" {
		c.Alerts = contracts.TopicSSHAlerts
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
	// ipx and userx are the stages' exactness machinery (in goka's tester
	// they are never started: nothing known committed, no pacing).
	ipx, userx *exactly.Group
}

// New returns the group's logic; m may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) *Tracker {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	t := &Tracker{cfg: cfg, log: log, m: m, now: time.Now}
	t.ipx = exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "IP stage", Group: cfg.Group,
		Loop: t.Graph().LoopStream().Topic(), StorageDir: cfg.StorageDir})
	t.userx = exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "user stage", Group: t.UsersGroup(),
		Loop: t.UsersGraph().LoopStream().Topic(), StorageDir: cfg.StorageDir,
		Merged: true, Pace: !cfg.NoPace, Input: cfg.Input, Escaped: func() {
			m.paceEscapes.Inc()
			log.Warn("event-time merge: an event waited its limit for a slower partition and went ahead", "limit", exactly.PaceLimit)
		}})
	return t
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

// Topics are every topic the two stages use, goka's own included, so the
// bootstrap creates them all before any instance starts (two instances
// racing to create the loop topic made one of them exit).
func (t *Tracker) Topics() []topics.Spec {
	// Partitions 0: the configured count, the same for the input, the
	// tables and the loopbacks (goka copartitions them).
	specs := []topics.Spec{{Name: t.cfg.Input}, {Name: t.cfg.Alerts}}
	for _, gg := range []*goka.GroupGraph{t.Graph(), t.UsersGraph()} {
		specs = append(specs,
			topics.Spec{Name: gg.GroupTable().Topic(), Compacted: true},
			topics.Spec{Name: gg.LoopStream().Topic(), Retention: kafkaconfig.StreamRetention})
	}
	return specs
}

// EnsureTopics creates the contract's topics and the group's own.
func (t *Tracker) EnsureTopics(ctx context.Context) error {
	_, err := topics.Ensure(ctx, t.cfg.Kafka, append(topics.Contract(), t.Topics()...), t.log)
	return err
}

// Run ensures the topics and runs one instance of both stages until ctx
// ends. Several instances share the IP stage's partitions; the user stage
// runs on one of them at a time (user.go).
func (t *Tracker) Run(ctx context.Context, opts ...goka.ProcessorOption) error {
	if err := t.EnsureTopics(ctx); err != nil {
		return err
	}
	stages, err := t.processors(opts)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	warn := func(msg string, err error) { t.log.Warn(msg, "err", err) }
	t.ipx.Start(runCtx, &wg, warn)
	t.userx.Start(runCtx, &wg, warn)
	errs := make(chan error, len(stages))
	for what, p := range stages {
		go func() {
			err := p.Run(runCtx)
			if err != nil && runCtx.Err() == nil {
				err = fmt.Errorf("%s: %w", what, err)
			} else {
				err = nil
			}
			stop() // one stage ending ends the other
			errs <- err
		}()
	}
	var all []error
	for range stages {
		all = append(all, <-errs)
	}
	stop()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(all...)
}

// processors builds the goka processors of the two stages, by name.
func (t *Tracker) processors(opts []goka.ProcessorOption) (map[string]*goka.Processor, error) {
	common := append([]goka.ProcessorOption{
		goka.WithPartitionChannelSize(4096),
		goka.WithLogger(gokaLogger{t.log}),
	}, opts...)
	ipOpts := append(t.ipx.ProcessorOptions(), common...)
	if t.cfg.OnAssign != nil {
		ipOpts = append(ipOpts, goka.WithRebalanceCallback(t.cfg.OnAssign))
	}
	ip, err := goka.NewProcessor(t.cfg.Kafka.Brokers, t.Graph(), ipOpts...)
	if err != nil {
		return nil, fmt.Errorf("tracker IP stage: %w", err)
	}
	userOpts := append(t.userx.ProcessorOptions(), common...)
	userOpts = append(userOpts, goka.WithRebalanceCallback(func(a goka.Assignment) {
		parts := make([]int32, 0, len(a))
		for p := range a {
			parts = append(parts, p)
		}
		t.userx.Assign(parts)
		t.log.Info("user stage assigned", "partitions", parts)
	}))
	user, err := goka.NewProcessor(t.cfg.Kafka.Brokers, t.UsersGraph(), userOpts...)
	if err != nil {
		return nil, fmt.Errorf("tracker user stage: %w", err)
	}
	return map[string]*goka.Processor{"tracker IP stage": ip, "tracker user stage": user}, nil
}

// input handles one ssh-log record in the IP stage: it routes the event to
// its IP or, without one, straight to its day.
func (t *Tracker) input(ctx goka.Context, msg interface{}) {
	e, ok := t.decode(ctx, msg)
	if !ok {
		t.m.badInput.Inc()
		return
	}
	t.m.event(ctx.Partition())
	t.route(ctx, e)
}

// decode reads an ssh-log record; one that is not an event of ours is
// logged and skipped, never fatal.
func (t *Tracker) decode(ctx goka.Context, msg interface{}) (*Event, bool) {
	var ev contracts.Event
	if err := ev.UnmarshalJSON(msg.([]byte)); err != nil {
		t.log.Warn("undecodable ssh-log record skipped", "group", ctx.Group(), "partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		return nil, false
	}
	return t.compact(&ev, ctx.Partition(), ctx.Offset()), true
}

// route sends an event to its IP or, without one, straight to its day.
func (t *Tracker) route(ctx goka.Context, e *Event) {
	if e.IP != "" {
		ctx.Loopback(e.IP, e)
		return
	}
	ctx.Loopback(DayKey(e.Day, ctx.Partition()), &DayDelta{Stream: 'A', Src: e.Src, Offset: e.Offset, Time: e.Time, Hour: e.Hour, Error: e.Error})
}

// compact keeps what the group needs of an event.
func (t *Tracker) compact(ev *contracts.Event, src int32, off int64) *Event {
	local := ev.EventTime.In(t.cfg.ReportLoc)
	return &Event{
		Src: src, Offset: off, Time: ev.EventTime.Unix(),
		Day: local.Format("2006-01-02"), Hour: uint8(local.Hour()),
		Error: ev.LogLevel == contracts.LevelError, Failed: int32(ev.FailedAttempts()),
		Type: ev.EventType, ErrorType: ev.ErrorType, User: ev.User, IP: ev.IP, Host: ev.HostName, RowHash: ev.RowHash,
	}
}

// loop dispatches a loopback message of the IP stage by its kind.
func (t *Tracker) loop(ctx goka.Context, msg interface{}) {
	switch m := msg.(type) {
	case *DayDelta:
		t.day(ctx, m)
	case *Event:
		t.ip(ctx, m)
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

// Lag is how many input and loopback records the two stages have not
// committed.
func (t *Tracker) Lag(ctx context.Context) (int64, error) {
	var total int64
	for _, g := range t.stages() {
		lag, err := topics.GroupLag(ctx, t.cfg.Kafka, g.group, []string{t.cfg.Input, g.loop})
		if err != nil {
			return 0, err
		}
		total += lag
	}
	return total, nil
}

// stage names one goka group of the tracker and its loopback topic.
type stage struct{ group, loop string }

// stages are the IP stage and the user stage.
func (t *Tracker) stages() []stage {
	return []stage{
		{t.cfg.Group, t.Graph().LoopStream().Topic()},
		{t.UsersGroup(), t.UsersGraph().LoopStream().Topic()},
	}
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
