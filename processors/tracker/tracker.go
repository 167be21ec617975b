// Package tracker runs log_monitor's pair of goka groups as one: the IP
// stage (processors/ipstage), which keeps per-IP state and per-day
// aggregates, and the user stage (processors/userstage), which keeps
// distributed_attack per user; both emit alerts to ssh-alerts, and the day
// aggregates feed the metrics-daily documents (processors/daily). Each
// stage gets its exactness machinery from processors/exactly.
//
// The package is what cmd/logmon, the views and the tests use: it sets the
// stages up from one Config, creates their topics, runs both in one
// instance, reports their lag, and names their state types and table codec
// (aliases.go).
package tracker

import (
	"context"

	"errors"
	"fmt"
	"github.com/IBM/sarama"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/ipstage"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/processors/userstage"
	"github.com/log-monitor/log_monitor/topics"
)

// DefaultGroup is the IP stage's group name; its table is
// DefaultGroup+"-table", the user stage's group DefaultGroup+"-users".
const DefaultGroup = ipstage.DefaultGroup

// Config is what the two stages need.
type Config struct {
	Kafka config.Kafka
	// Group, Input and Alerts default to the contract's names.
	Group  string
	Input  string
	Alerts string
	Rules  detect.Rules
	// ReportLoc is the zone whose calendar days make metric_date.
	ReportLoc *time.Location
	// StorageDir holds the groups' LevelDB partitions.
	StorageDir string
	// OnAssign, if set, is told the IP stage's partitions of every rebalance.
	OnAssign func(goka.Assignment)
	// NoPace turns off the user stage's event-time merge of the input partitions
	// (exactly's pacing): replays go faster, but distributed_attack may miss
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

// Tracker is the two stages of one instance.
type Tracker struct {
	cfg   Config
	log   *slog.Logger
	m     *Metrics
	ip    *ipstage.Stage
	users *userstage.Stage
	// ipx and userx are the stages' exactness machinery (in goka's tester
	// they are never started: nothing known committed, no pacing).
	ipx, userx *exactly.Group
}

// New returns the two stages; m may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) *Tracker {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	t := &Tracker{cfg: cfg, log: log, m: m}
	base := stage.Base{Alerts: cfg.Alerts, Rules: cfg.Rules, ReportLoc: cfg.ReportLoc, Log: log, M: m}
	usersGroup := userstage.Group(cfg.Group)
	// The IP stage has no loopback: its kept alerts are pruned by the
	// committed ssh-log offsets, and its records are presented by IP.
	t.ipx = exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "IP stage", Group: cfg.Group,
		Loop: cfg.Input, StorageDir: cfg.StorageDir, Input: cfg.Input,
		Present: func(m *sarama.ConsumerMessage) { t.ip.Present(m) }, Window: ipstage.DaysTopic(cfg.Group),
		Table: string(goka.GroupTable(goka.Group(cfg.Group)))})
	t.userx = exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "user stage", Group: usersGroup,
		Loop: loopTopic(usersGroup), StorageDir: cfg.StorageDir,
		Merged: true, Pace: !cfg.NoPace, Input: cfg.Input, Escaped: func() {
			m.PaceEscapes.Inc()
			log.Warn("event-time merge: an event waited its limit for a slower partition and went ahead", "limit", exactly.PaceLimit)
		}})
	t.ip = ipstage.New(ipstage.Config{Base: base, Group: cfg.Group, Input: cfg.Input, Partitions: cfg.Kafka.PartitionCount(),
		ReadTable: func() ([]exactly.Record, error) { return t.readTable(context.Background()) }}, t.ipx)
	t.users = userstage.New(userstage.Config{Base: base, Group: usersGroup, Input: cfg.Input}, t.userx)
	t.ipx.Keep(t.ip)
	return t
}

// readTable reads the IP stage's table topic (the first generation's day
// aggregates, once per partition after an upgrade).
func (t *Tracker) readTable(ctx context.Context) ([]exactly.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var recs []exactly.Record
	err := topics.ReadAll(ctx, t.cfg.Kafka, t.ip.TableTopic(), func(m *sarama.ConsumerMessage) error {
		if strings.HasPrefix(string(m.Key), ipstage.DayKeyPrefix) {
			recs = append(recs, exactly.Record{Key: string(m.Key), Value: m.Value})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.ip.TableTopic(), err)
	}
	return recs, nil
}

// loopTopic is goka's loopback topic of group (goka names it).
func loopTopic(group string) string {
	return goka.DefineGroup(goka.Group(group), goka.Loop(new(codec.Bytes), nil)).LoopStream().Topic()
}

// OnAssign sets a function told the IP stage's partitions of every
// rebalance (the group's own rebalance callback wins over one given to
// Run).
func (t *Tracker) OnAssign(f func(goka.Assignment)) { t.cfg.OnAssign = f }

// Graph defines the IP stage's goka group.
func (t *Tracker) Graph() *goka.GroupGraph { return t.ip.Graph() }

// TableTopic is the IP stage's table topic.
func (t *Tracker) TableTopic() string { return t.ip.TableTopic() }

// DaysTopic is the IP stage's topic of day aggregates.
func (t *Tracker) DaysTopic() string { return t.ip.DaysTopic() }

// DayParts returns the day aggregates the IP stage holds in memory (for
// tests on goka's tester).
func (t *Tracker) DayParts() map[string][]*DayState { return t.ip.DayParts() }

// UsersGroup is the user stage's goka group.
func (t *Tracker) UsersGroup() string { return t.users.Group() }

// UsersTableTopic is the user stage's table topic.
func (t *Tracker) UsersTableTopic() string { return t.users.TableTopic() }

// UsersGraph defines the user stage's goka group.
func (t *Tracker) UsersGraph() *goka.GroupGraph { return t.users.Graph() }

// Topics are every topic the two stages use, goka's own included, so the
// bootstrap creates them all before any instance starts (two instances
// racing to create the loop topic made one of them exit).
func (t *Tracker) Topics() []topics.Spec {
	// Partitions 0: the configured count, the same for the input, the
	// tables and the loopbacks (goka copartitions them).
	specs := []topics.Spec{{Name: t.cfg.Input}, {Name: t.cfg.Alerts},
		{Name: t.DaysTopic(), Compacted: true, Segment: daysSegment}}
	for _, gg := range []*goka.GroupGraph{t.Graph(), t.UsersGraph()} {
		specs = append(specs, topics.Spec{Name: gg.GroupTable().Topic(), Compacted: true})
		if gg.LoopStream() != nil {
			specs = append(specs, topics.Spec{Name: gg.LoopStream().Topic(), Retention: kafkaconfig.StreamRetention})
		}
	}
	return specs
}

// daysSegment rolls the days topic's segments often, so compaction keeps
// what a restore reads (the whole topic) small: live, every partition
// writes its day's aggregate up to ten times a second.
const daysSegment = 10 * time.Minute

// EnsureTopics creates the contract's topics and the group's own.
func (t *Tracker) EnsureTopics(ctx context.Context) error {
	specs := append(topics.ContractUsing(t.cfg.Input, t.cfg.Alerts), t.Topics()...)
	_, err := topics.Ensure(ctx, t.cfg.Kafka, specs, t.log)
	return err
}

// Run ensures the topics and runs one instance of both stages until ctx
// ends. Several instances share the IP stage's partitions; the user stage
// runs on one of them at a time (processors/userstage).
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
	t.ipx.Close()
	t.userx.Close()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(all...)
}

// processors builds the goka processors of the two stages, by name.
func (t *Tracker) processors(opts []goka.ProcessorOption) (map[string]*goka.Processor, error) {
	common := append([]goka.ProcessorOption{
		goka.WithPartitionChannelSize(kafkaconfig.ChannelBufferSize),
		goka.WithLogger(stage.GokaLogger{Log: t.log}),
	}, opts...)
	ipOpts := append(t.ipx.ProcessorOptions(), common...)
	ipOpts = append(ipOpts, goka.WithRebalanceCallback(func(a goka.Assignment) {
		t.ipx.Assign(partitions(a))
		if t.cfg.OnAssign != nil {
			t.cfg.OnAssign(a)
		}
	}))
	ip, err := goka.NewProcessor(t.cfg.Kafka.Brokers, t.Graph(), ipOpts...)
	if err != nil {
		return nil, fmt.Errorf("tracker IP stage: %w", err)
	}
	userOpts := append(t.userx.ProcessorOptions(), common...)
	userOpts = append(userOpts, goka.WithRebalanceCallback(func(a goka.Assignment) {
		parts := partitions(a)
		t.userx.Assign(parts)
		t.log.Info("user stage assigned", "partitions", parts)
	}))
	user, err := goka.NewProcessor(t.cfg.Kafka.Brokers, t.UsersGraph(), userOpts...)
	if err != nil {
		return nil, fmt.Errorf("tracker user stage: %w", err)
	}
	return map[string]*goka.Processor{"tracker IP stage": ip, "tracker user stage": user}, nil
}

// partitions are an assignment's partitions.
func partitions(a goka.Assignment) []int32 {
	parts := make([]int32, 0, len(a))
	for p := range a {
		parts = append(parts, p)
	}
	return parts
}

// Lag is how many input and loopback records the two stages have not
// committed.
func (t *Tracker) Lag(ctx context.Context) (int64, error) {
	var total int64
	for _, g := range t.stages() {
		names := []string{t.cfg.Input}
		if g.loop != "" {
			names = append(names, g.loop)
		}
		lag, err := topics.GroupLag(ctx, t.cfg.Kafka, g.group, names)
		if err != nil {
			return 0, err
		}
		total += lag
	}
	return total, nil
}

// stageTopics names one goka group of the tracker and its loopback topic.
type stageTopics struct{ group, loop string }

// stages are the IP stage (no loopback) and the user stage.
func (t *Tracker) stages() []stageTopics {
	return []stageTopics{
		{t.cfg.Group, ""},
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
