package incidentstage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/topics"
)

// Config is what one instance of the incident stage needs.
type Config struct {
	Kafka config.Kafka
	// Group, Alerts and Incidents default to DefaultGroup and the
	// contract's ssh-alerts and ssh-incidents.
	Group, Alerts, Incidents string
	// Gap: a key quiet this long ends its incident (0: DefaultGap).
	Gap time.Duration
	// StorageDir holds the table's LevelDB partitions.
	StorageDir string
	// CheckEvery is how often the checker looks for incidents to close
	// (0: a minute).
	CheckEvery time.Duration
	// Clock is the stage's and the checker's clock (nil: time.Now).
	Clock func() time.Time
}

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Alerts == "" {
		c.Alerts = contracts.TopicSSHAlerts
	}
	if c.Incidents == "" {
		c.Incidents = contracts.TopicSSHIncidents
	}
	if c.Gap <= 0 {
		c.Gap = DefaultGap
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = time.Minute
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Runner is one instance of the incident stage: its goka processor and
// its checker.
type Runner struct {
	cfg   Config
	stage *Stage
	x     *exactly.Group
	log   *slog.Logger
	m     *Metrics
	run   *stage.Checked
}

// New returns an instance; m may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) *Runner {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	r := &Runner{cfg: cfg, m: m, log: log,
		stage: &Stage{group: cfg.Group, alerts: cfg.Alerts, incidents: cfg.Incidents, gap: cfg.Gap, clock: cfg.Clock, log: log, m: m},
		x:     exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "incident stage", Group: cfg.Group, StorageDir: cfg.StorageDir})}
	r.run = &stage.Checked{Name: "incident stage", Kafka: cfg.Kafka, Graph: r.Graph(), ChecksTopic: ChecksTopic(cfg.Group),
		Options: r.x.ProcessorOptions(), Log: log}
	return r
}

// Graph defines the group.
func (r *Runner) Graph() *goka.GroupGraph { return r.stage.Graph() }

// Topics are the topics the stage reads and writes, its own included.
func (r *Runner) Topics() []topics.Spec {
	return []topics.Spec{{Name: r.cfg.Alerts}, {Name: r.cfg.Incidents},
		{Name: ChecksTopic(r.cfg.Group), Retention: kafkaconfig.StreamRetention},
		{Name: TableTopic(r.cfg.Group), Compacted: true}}
}

// Run ensures the topics and runs the processor and the checker until ctx
// ends.
func (r *Runner) Run(ctx context.Context) error {
	if _, err := topics.Ensure(ctx, r.cfg.Kafka, r.Topics(), r.log); err != nil {
		return err
	}
	return r.run.Run(ctx, r.check)
}

// check sends, every CheckEvery, a close check to each key of the owned
// partitions whose incident is open and whose last alert arrived a gap
// ago or more.
func (r *Runner) check(ctx context.Context, em *goka.Emitter) {
	t := time.NewTicker(r.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owned := r.run.Owned()
		now := r.cfg.Clock()
		for _, p := range owned {
			if err := r.checkPartition(em, p, now); err != nil && ctx.Err() == nil {
				r.log.Debug("close checks of a partition not sent this round", "partition", p, "err", err)
			}
		}
	}
}

func (r *Runner) checkPartition(em *goka.Emitter, p int32, now time.Time) error {
	var due []string
	err := r.x.Stores().Each(TableTopic(r.cfg.Group), p, func(key string, value []byte) error {
		if strings.HasPrefix(key, "__") {
			return nil // goka's own keys (the offset)
		}
		v, err := Codec{}.Decode(value)
		if err != nil {
			return nil
		}
		if v.(*KeyState).DueToClose(now, r.cfg.Gap) {
			due = append(due, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range due {
		if _, err := em.Emit(key, EncodeCheck(now.Add(-r.cfg.Gap))); err != nil {
			return fmt.Errorf("check %s: %w", key, err)
		}
		r.m.Checks.Inc()
	}
	return nil
}
