package hoststage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/topics"
)

// Config is what one instance of the host stage needs.
type Config struct {
	Kafka config.Kafka
	// Group, Input and Alerts default to DefaultGroup and the contract's
	// system-metrics and ssh-alerts; Activity, the SSH activity ingest
	// writes, to contracts.HostActivityTopic of ssh-log.
	Group, Input, Alerts, Activity string
	Rules                          detect.Rules
	// StorageDir holds the table's LevelDB partitions.
	StorageDir string
	// CheckEvery is how often the checker looks for silent hosts (0:
	// DefaultCheckEvery).
	CheckEvery time.Duration
	// Clock is the checker's clock (nil: time.Now).
	Clock func() time.Time
}

// DefaultCheckEvery is how often the checker looks for silent hosts: a
// third of the default sampling interval, so host_silent fires within a
// few seconds of its threshold.
const DefaultCheckEvery = 3 * time.Second

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Input == "" {
		c.Input = contracts.TopicSystemMetrics
	}
	if c.Alerts == "" {
		c.Alerts = contracts.TopicSSHAlerts
	}
	if c.Activity == "" {
		c.Activity = contracts.HostActivityTopic(contracts.TopicSSHLog)
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = DefaultCheckEvery
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Runner is one instance of the host stage: its goka processor and its
// checker.
type Runner struct {
	cfg   Config
	stage *Stage
	x     *exactly.Group
	log   *slog.Logger
	m     *Metrics

	run *stage.Checked
	mu  sync.Mutex
	// states counts each partition's hosts by state at its last check.
	states map[int32]map[string]int
}

// New returns an instance; m may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) *Runner {
	cfg.defaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	r := &Runner{cfg: cfg, m: m, log: log, states: map[int32]map[string]int{},
		stage: NewStage(cfg.Group, cfg.Input, cfg.Activity, cfg.Alerts, cfg.Rules, m, log),
		x:     exactly.New(exactly.Config{Kafka: cfg.Kafka, Name: "host stage", Group: cfg.Group, StorageDir: cfg.StorageDir})}
	r.run = &stage.Checked{Name: "host stage", Kafka: cfg.Kafka, Graph: r.Graph(), ChecksTopic: ChecksTopic(cfg.Group),
		Options: r.x.ProcessorOptions(), Log: log}
	return r
}

// Graph defines the group.
func (r *Runner) Graph() *goka.GroupGraph { return r.stage.Graph() }

// Topics are the topics the stage reads and writes, its own included.
func (r *Runner) Topics() []topics.Spec {
	return []topics.Spec{{Name: r.cfg.Input}, {Name: r.cfg.Alerts}, {Name: r.cfg.Activity, Retention: kafkaconfig.StreamRetention},
		{Name: ChecksTopic(r.cfg.Group), Retention: kafkaconfig.StreamRetention},
		{Name: TableTopic(r.cfg.Group), Compacted: true}}
}

// Run ensures the topics and runs the processor and the checker until ctx
// ends.
func (r *Runner) Run(ctx context.Context) error {
	if _, err := topics.Ensure(ctx, r.cfg.Kafka, r.Topics(), r.log); err != nil {
		return err
	}
	client, err := sarama.NewClient(r.cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-hosts-checker"))
	if err != nil {
		return fmt.Errorf("host stage checks: %w", err)
	}
	defer client.Close()
	return r.run.Run(ctx, func(ctx context.Context, em *goka.Emitter) { r.check(ctx, em, client) })
}

// check sends, every CheckEvery, a check to each host of the owned
// partitions whose latest sample is older than the silent rule allows. A
// partition is checked only once the stage handled every sample written
// to it before the round: a stage catching up would otherwise find every
// host silent whose samples still wait in the input.
func (r *Runner) check(ctx context.Context, em *goka.Emitter, client sarama.Client) {
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
			end, err := client.GetOffset(r.cfg.Input, p, sarama.OffsetNewest)
			if err != nil || r.stage.Applied(p)+1 < end {
				continue
			}
			if err := r.checkPartition(em, p, now); err != nil && ctx.Err() == nil {
				r.log.Debug("silence checks of a partition not sent this round", "partition", p, "err", err)
			}
		}
		r.countStates(owned)
	}
}

// countStates sets the hosts-by-state gauge from the owned partitions'
// counts of their last check.
func (r *Runner) countStates(owned []int32) {
	total := map[string]int{StateOK: 0, StateWarning: 0, StateCritical: 0, StateSilent: 0}
	r.mu.Lock()
	for _, p := range owned {
		for state, n := range r.states[p] {
			total[state] += n
		}
	}
	r.mu.Unlock()
	for state, n := range total {
		r.m.Hosts.WithLabelValues(state).Set(float64(n))
	}
}

func (r *Runner) checkPartition(em *goka.Emitter, p int32, now time.Time) error {
	var due []string
	states := map[string]int{}
	err := r.x.Stores().Each(TableTopic(r.cfg.Group), p, func(key string, value []byte) error {
		if strings.HasPrefix(key, "__") {
			return nil // goka's own keys (the offset)
		}
		v, err := Codec{}.Decode(value)
		if err != nil {
			return nil
		}
		h := v.(*HostState)
		gap := silentAfter(&h.Latest, &r.cfg.Rules)
		if gap == 0 || now.Sub(h.Latest.Timestamp) <= gap {
			states[h.State]++
			return nil
		}
		states[StateSilent]++
		if ep := h.Episodes[contracts.RuleHostSilent]; ep != nil && now.Sub(ep.LastAlert) < r.cfg.Rules.Cooldown {
			return nil // alerted; the next check is the reminder's
		}
		due = append(due, key)
		return nil
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.states[p] = states
	r.mu.Unlock()
	for _, host := range due {
		if _, err := em.Emit(host, EncodeCheck(now)); err != nil {
			return fmt.Errorf("check %s: %w", host, err)
		}
		r.m.Checks.Inc()
	}
	return nil
}
