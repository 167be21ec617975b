package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// Config is what the collector looks at.
type Config struct {
	Kafka config.Kafka
	// Elastic nil: no Elasticsearch in this install.
	Elastic *config.Elastic
	// Topics (default the contract's names).
	HeartbeatsTopic, AlertsTopic, DLQTopic string
	// Indices are the Elasticsearch indices (or aliases) to report
	// (default the contract's four).
	Indices []string
	// Groups keeps the consumer groups whose name starts with one of these
	// prefixes (default "logmon"); ["*"]: every group.
	Groups []string
	// StallWindow: a group whose lag has grown over this long is stalled.
	StallWindow time.Duration
}

// Collector gathers the pipeline's status. It keeps what it saw before, so
// successive statuses tell whether lag grows and how fast indices grow.
type Collector struct {
	cfg Config
	log *slog.Logger
	es  *elasticsearch.Client

	mu      sync.Mutex
	history map[string][]lagPoint // group -> its lag over the stall window
	docs    map[string]docsPoint  // index -> its indexing total before
	// open is the watchdog's episodes as last read from the heartbeats topic.
	open []contracts.WatchdogEpisode
}

type lagPoint struct {
	at  time.Time
	lag int64
	// consumed is the sum of the group's committed offsets: it moves when
	// the group processes anything.
	consumed int64
}

type docsPoint struct {
	at    time.Time
	total int64
}

// NewCollector returns a collector over cfg.
func NewCollector(cfg Config, log *slog.Logger) (*Collector, error) {
	if cfg.HeartbeatsTopic == "" {
		cfg.HeartbeatsTopic = contracts.TopicHeartbeats
	}
	if cfg.AlertsTopic == "" {
		cfg.AlertsTopic = contracts.TopicSSHAlerts
	}
	if cfg.DLQTopic == "" {
		cfg.DLQTopic = contracts.TopicSSHLogDLQ
	}
	if len(cfg.Indices) == 0 {
		cfg.Indices = []string{contracts.IndexSSHLog, contracts.IndexSSHAlerts, contracts.IndexSSHIncidents, contracts.IndexMetricsDaily, contracts.IndexSystemMetrics}
	}
	if len(cfg.Groups) == 0 {
		cfg.Groups = []string{"logmon"}
	}
	if cfg.StallWindow <= 0 {
		cfg.StallWindow = 5 * time.Minute
	}
	c := &Collector{cfg: cfg, log: log, history: map[string][]lagPoint{}, docs: map[string]docsPoint{}}
	if cfg.Elastic != nil && len(cfg.Elastic.URLs) > 0 {
		es, err := elastic.NewClient(*cfg.Elastic)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		c.es = es
	}
	return c, nil
}

// Collect returns the status now. What cannot be reached is reported in
// the status (a broker down, Elasticsearch unreachable, Errors), not as an
// error: the status of a broken pipeline is the point.
func (c *Collector) Collect(ctx context.Context) *contracts.Status {
	start := time.Now()
	st := &contracts.Status{Time: start.UTC(), Errors: map[string]string{}}
	var esBefore map[string]int64
	if c.es != nil {
		esBefore = c.indexTotals(ctx)
	}
	c.collectKafka(ctx, st)
	if c.es != nil {
		// The indexing rate is measured over the collection itself (at
		// least a second) unless an earlier status gave a starting point.
		if wait := time.Second - time.Since(start); wait > 0 && !c.haveDocs() {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		st.Elastic = c.collectElastic(ctx, esBefore, start)
	}
	summarize(st)
	st.Took = time.Since(start)
	if len(st.Errors) == 0 {
		st.Errors = nil
	}
	return st
}

// collectKafka fills the cluster, the groups' lag, the components (from
// the heartbeats), the last alert and the dead-letter count.
func (c *Collector) collectKafka(ctx context.Context, st *contracts.Status) {
	st.Kafka.Controller = -1
	st.Kafka.Brokers = probeBrokers(c.cfg.Kafka.Brokers)
	for _, b := range st.Kafka.Brokers {
		if b.Up {
			st.Kafka.BrokersUp++
		}
	}
	if st.Kafka.BrokersUp == 0 {
		st.Errors["kafka"] = "no broker answers"
		return
	}
	cfg := kafkaconfig.Sarama("logmon-status")
	cfg.Net.DialTimeout = 2 * time.Second
	cfg.Metadata.Retry.Max = 1
	cfg.Admin.Timeout = 5 * time.Second
	client, err := sarama.NewClient(c.cfg.Kafka.Brokers, cfg)
	if err != nil {
		st.Errors["kafka"] = err.Error()
		return
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		st.Errors["kafka"] = err.Error()
		return
	}
	if err := clusterState(client, admin, st); err != nil {
		st.Errors["kafka"] = err.Error()
	}
	groups, err := c.groups(client, admin, time.Now())
	if err != nil {
		st.Errors["groups"] = err.Error()
	}
	st.Groups = groups
	comps, stats, err := c.components(ctx, client)
	if err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		st.Errors["heartbeats"] = err.Error()
	}
	st.Components = comps
	st.Episodes = c.episodes()
	applyStats(st, stats)
	if a, err := lastAlert(ctx, client, c.cfg.AlertsTopic); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		st.Errors["alerts"] = err.Error()
	} else {
		st.Alerts.Last = a
	}
	if n, err := topicRecords(client, c.cfg.DLQTopic); err == nil {
		st.Kafka.DeadLetterRecords = n
	}
}

// components reads the heartbeats topic: the latest heartbeat per
// instance, and the watchdog's episodes.
func (c *Collector) components(ctx context.Context, client sarama.Client) ([]contracts.ComponentStatus, []contracts.Heartbeat, error) {
	latest := map[string]contracts.Heartbeat{}
	err := readTopic(ctx, client, c.cfg.HeartbeatsTopic, func(m *sarama.ConsumerMessage) {
		if string(m.Key) == contracts.WatchdogStateKey {
			c.setEpisodes(m.Value)
			return
		}
		if m.Value == nil {
			delete(latest, string(m.Key))
			return
		}
		var hb contracts.Heartbeat
		if json.Unmarshal(m.Value, &hb) == nil {
			latest[string(m.Key)] = hb
		}
	})
	now := time.Now()
	out := make([]contracts.ComponentStatus, 0, len(latest))
	beats := make([]contracts.Heartbeat, 0, len(latest))
	for _, hb := range latest {
		out = append(out, componentStatus(hb, now))
		beats = append(beats, hb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, beats, err
}

// componentStatus is hb's instance as of now: gone after 3 intervals
// without a heartbeat.
func componentStatus(hb contracts.Heartbeat, now time.Time) contracts.ComponentStatus {
	cs := contracts.ComponentStatus{Heartbeat: hb, SinceSeconds: now.Sub(hb.Time).Seconds()}
	interval := time.Duration(hb.IntervalSeconds * float64(time.Second))
	if interval <= 0 {
		interval = DefaultInterval
	}
	switch {
	case hb.Stopped:
		cs.State = contracts.StateStopped
	case now.Sub(hb.Time) > 3*interval:
		cs.State = contracts.StateGone
	default:
		cs.State = contracts.StateUp
		cs.UptimeSeconds = now.Sub(hb.Started).Seconds()
	}
	return cs
}

// applyStats adds up the instances' stats into the mail and hosts parts.
func applyStats(st *contracts.Status, beats []contracts.Heartbeat) {
	var lastReport float64
	for _, hb := range beats {
		s := hb.Stats
		st.Mail.Sent += s[contracts.StatMailsSent]
		st.Mail.Failed += s[contracts.StatMailsFailed]
		st.Mail.ReportsSent += s[contracts.StatReportsSent]
		st.Mail.ReportsFailed += s[contracts.StatReportsFailed]
		lastReport = max(lastReport, s[contracts.StatLastReportDay])
		st.Hosts.Reporting += int(s[contracts.StatHostsReporting])
		st.Hosts.Silent += int(s[contracts.StatHostsSilent])
		st.Hosts.Warning += int(s[contracts.StatHostsWarning])
		st.Hosts.Critical += int(s[contracts.StatHostsCritical])
	}
	if lastReport > 0 {
		st.Mail.LastReportDay = time.Unix(int64(lastReport), 0).UTC()
	}
}

// summarize sets Healthy and Problems from the rest of the status.
func summarize(st *contracts.Status) {
	var p []string
	for _, b := range st.Kafka.Brokers {
		if !b.Up {
			p = append(p, fmt.Sprintf("kafka broker %s down: %s", b.Addr, b.Error))
		}
	}
	if n := st.Kafka.UnderReplicatedN; n > 0 {
		p = append(p, fmt.Sprintf("kafka: %d partitions under-replicated", n))
	}
	if n := st.Kafka.OfflineN; n > 0 {
		p = append(p, fmt.Sprintf("kafka: %d partitions offline", n))
	}
	for _, g := range st.Groups {
		if g.Growing {
			p = append(p, fmt.Sprintf("group %s: lag %d and growing", g.Group, g.Lag))
		}
	}
	for _, c := range st.Components {
		switch {
		case c.State == contracts.StateGone:
			p = append(p, fmt.Sprintf("%s: no heartbeat for %.0f s", c.Key(), c.SinceSeconds))
		case c.State == contracts.StateUp && !c.Ready:
			p = append(p, fmt.Sprintf("%s: not ready: %s", c.Key(), c.Reason))
		}
	}
	if e := st.Elastic; e != nil && (!e.Up || e.Health == "red") {
		p = append(p, fmt.Sprintf("elasticsearch %s: %s", e.Health, e.Error))
	}
	for _, part := range sortedKeys(st.Errors) {
		p = append(p, part+": "+st.Errors[part])
	}
	st.Problems = p
	st.Healthy = len(p) == 0
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keepGroup reports whether the group is one the status shows.
func (c *Collector) keepGroup(name string) bool {
	for _, p := range c.cfg.Groups {
		if p == "*" || strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// setEpisodes keeps the watchdog's open episodes from its state record.
func (c *Collector) setEpisodes(v []byte) {
	var eps []contracts.WatchdogEpisode
	if v != nil && json.Unmarshal(v, &eps) != nil {
		return
	}
	c.mu.Lock()
	c.open = eps
	c.mu.Unlock()
}

func (c *Collector) episodes() []contracts.WatchdogEpisode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}
