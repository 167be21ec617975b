// Package esindex is the Elasticsearch sink (`logmon index`): a Kafka
// consumer group reading ssh-log, ssh-alerts and metrics-daily that writes
// every record with the _bulk API and commits a record's offset only after
// Elasticsearch acknowledged it (or, refused for good, the dead-letter topic
// holds it). A crash re-sends what was not committed; the document ids
// (row_hash, alert_id, metric_date) make the re-send harmless.
//
// One writer per consumer-group session takes the records of every claimed
// partition from a bounded channel, cuts batches by count, bytes and time,
// and retries 429, 5xx and transport failures with exponential backoff and
// jitter, never giving up while the session lasts. While Elasticsearch is
// down the writer waits, the channel fills, and the claims stop taking
// records: Sarama stops fetching, memory stays bounded.
package esindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/elastic/go-elasticsearch/v8"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// DefaultGroup is the sink's consumer group.
const DefaultGroup = "logmon-index"

// Config is what the sink needs; zero values take the defaults.
type Config struct {
	Kafka   config.Kafka
	Elastic config.Elastic
	Group   string
	// Topics default to the contract's names.
	EventsTopic, AlertsTopic, MetricsTopic, DLQTopic string
	// HostsTopic holds the agents' samples (default system-metrics),
	// IncidentsTopic the incidents (default ssh-incidents).
	HostsTopic, IncidentsTopic string
	// IndexSuffix makes every index name base+"-"+suffix (tests, benchmarks).
	IndexSuffix string
	// BatchDocs and BatchBytes cut a bulk request (default 5,000 and 8 MiB);
	// FlushInterval sends a partial one (default 500 ms).
	BatchDocs     int
	BatchBytes    int
	FlushInterval time.Duration
	// Backoff of retries (default 200 ms doubling to 10 s, jittered).
	Backoff Backoff
	// RetentionEvery is how often old time-based indices are deleted (default 1 h).
	RetentionEvery time.Duration
}

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.EventsTopic == "" {
		c.EventsTopic = contracts.TopicSSHLog
	}
	if c.AlertsTopic == "" {
		c.AlertsTopic = contracts.TopicSSHAlerts
	}
	if c.MetricsTopic == "" {
		c.MetricsTopic = contracts.TopicMetricsDaily
	}
	if c.DLQTopic == "" {
		c.DLQTopic = contracts.TopicSSHLogDLQ
	}
	if c.IncidentsTopic == "" {
		c.IncidentsTopic = contracts.TopicSSHIncidents
	}
	if c.HostsTopic == "" {
		c.HostsTopic = contracts.TopicSystemMetrics
	}
	if c.BatchDocs <= 0 {
		c.BatchDocs = 5000
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 8 << 20
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 500 * time.Millisecond
	}
	if c.Backoff.Base <= 0 {
		c.Backoff.Base = 200 * time.Millisecond
	}
	if c.Backoff.Max <= 0 {
		c.Backoff.Max = 10 * time.Second
	}
	if c.RetentionEvery <= 0 {
		c.RetentionEvery = time.Hour
	}
}

// Sink is the running connector.
type Sink struct {
	cfg    Config
	layout elastic.Layout
	kinds  map[string]Kind
	es     *elasticsearch.Client
	m      *Metrics
	log    *slog.Logger

	mu      sync.Mutex
	created map[string]bool // time-based indices known to exist
	hwm     sync.Map        // "topic/partition" -> *atomic.Int64 (high-water mark)
	ready   atomic.Bool
}

// New checks the configuration and builds the Elasticsearch client.
func New(cfg Config, m *Metrics, log *slog.Logger) (*Sink, error) {
	cfg.defaults()
	layout, err := elastic.NewLayout(cfg.Elastic.IndexLayout, cfg.IndexSuffix, cfg.Elastic.RetentionDays)
	if err != nil {
		return nil, err
	}
	es, err := elastic.NewClient(cfg.Elastic)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	kinds := map[string]Kind{cfg.EventsTopic: KindEvents, cfg.AlertsTopic: KindAlerts, cfg.MetricsTopic: KindMetrics,
		cfg.HostsTopic: KindHosts, cfg.IncidentsTopic: KindIncidents}
	if len(kinds) != kindCount {
		return nil, fmt.Errorf("index: the events, alerts, metrics, hosts and incidents topics must differ (%s, %s, %s, %s, %s)",
			cfg.EventsTopic, cfg.AlertsTopic, cfg.MetricsTopic, cfg.HostsTopic, cfg.IncidentsTopic)
	}
	return &Sink{cfg: cfg, layout: layout, kinds: kinds, es: es, m: m, log: log, created: map[string]bool{}}, nil
}

// Alias is the name readers use for a contract index (base).
func (s *Sink) Alias(base string) string { return s.layout.Alias(base) }

// Ready reports whether the sink has its templates and topics and consumes.
func (s *Sink) Ready() bool { return s.ready.Load() }

// topicSpecs are the contract's topics under the sink's configured names.
func (s *Sink) topicSpecs() []topics.Spec {
	names := map[string]string{contracts.TopicSSHLog: s.cfg.EventsTopic, contracts.TopicSSHAlerts: s.cfg.AlertsTopic,
		contracts.TopicMetricsDaily: s.cfg.MetricsTopic, contracts.TopicSSHLogDLQ: s.cfg.DLQTopic}
	specs := topics.Contract()
	for i := range specs {
		if n, ok := names[specs[i].Name]; ok {
			specs[i].Name = n
		}
	}
	return append(specs, topics.Spec{Name: s.cfg.HostsTopic}, topics.Spec{Name: s.cfg.IncidentsTopic})
}

// Run consumes until ctx ends.
func (s *Sink) Run(ctx context.Context) error {
	if _, err := topics.Ensure(ctx, s.cfg.Kafka, s.topicSpecs(), s.log); err != nil {
		return err
	}
	if err := s.prepareElastic(ctx); err != nil {
		return err
	}
	dlq, err := sarama.NewSyncProducer(s.cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-index-dlq"))
	if err != nil {
		return fmt.Errorf("index: dead-letter producer: %w", err)
	}
	defer dlq.Close()
	group, err := sarama.NewConsumerGroup(s.cfg.Kafka.Brokers, s.cfg.Group, s.saramaConfig())
	if err != nil {
		return fmt.Errorf("index: consumer group %s: %w", s.cfg.Group, err)
	}
	defer group.Close()
	go func() {
		for err := range group.Errors() {
			s.log.Warn("consumer group", "group", s.cfg.Group, "err", err)
		}
	}()
	go s.retentionLoop(ctx)

	h := &handler{s: s, dlq: dlq}
	names := []string{s.cfg.EventsTopic, s.cfg.AlertsTopic, s.cfg.MetricsTopic, s.cfg.HostsTopic, s.cfg.IncidentsTopic}
	s.ready.Store(true)
	defer s.ready.Store(false)
	s.log.Info("indexing", "group", s.cfg.Group, "topics", names, "layout", s.layout.Kind,
		"aliases", []string{s.Alias(contracts.IndexSSHLog), s.Alias(contracts.IndexSSHAlerts), s.Alias(contracts.IndexMetricsDaily)})
	for ctx.Err() == nil {
		if err := group.Consume(ctx, names, h); err != nil {
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				break
			}
			s.log.Warn("consumer group session ended; rejoining", "err", err)
			if sleep(ctx, time.Second) != nil {
				break
			}
		}
	}
	return nil
}

// saramaConfig is the project's configuration with manual commits and a
// balance strategy for topics of different partition counts.
func (s *Sink) saramaConfig() *sarama.Config {
	c := kafkaconfig.Sarama("logmon-index")
	c.Consumer.Offsets.AutoCommit.Enable = false
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	c.Consumer.Fetch.Default = 4 << 20
	return c
}

// prepareElastic waits for the cluster (GET /_cluster/health) and puts the
// index templates; both are retried until ctx ends.
func (s *Sink) prepareElastic(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := elastic.WaitReady(ctx, s.es)
		if err == nil {
			err = elastic.EnsureTemplates(ctx, s.es)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("index: elasticsearch: %w", err)
		}
		s.log.Warn("elasticsearch not ready; retrying", "err", err)
		if sleep(ctx, s.cfg.Backoff.Delay(attempt)) != nil {
			return fmt.Errorf("index: elasticsearch: %w", err)
		}
	}
}

func (s *Sink) retentionLoop(ctx context.Context) {
	if !s.layout.TimeBased() || s.layout.RetentionDays == 0 {
		return
	}
	bases := []string{contracts.IndexSSHLog, contracts.IndexSSHAlerts, contracts.IndexMetricsDaily}
	for {
		if _, err := elastic.EnforceRetention(ctx, s.es, s.layout, bases, time.Now(), s.log); err != nil && ctx.Err() == nil {
			s.log.Warn("retention failed; next round retries", "err", err)
		}
		s.mu.Lock()
		s.created = map[string]bool{} // deleted indices must be created again
		s.mu.Unlock()
		if sleep(ctx, s.cfg.RetentionEvery) != nil {
			return
		}
	}
}

// ensureIndex creates a time-based index with its alias once per process
// (and after each retention round).
func (s *Sink) ensureIndex(ctx context.Context, index string, k Kind) error {
	if !s.layout.TimeBased() {
		return nil
	}
	s.mu.Lock()
	known := s.created[index]
	s.mu.Unlock()
	if known {
		return nil
	}
	if err := elastic.EnsureIndex(ctx, s.es, index, s.Alias(k.Base())); err != nil {
		return err
	}
	s.mu.Lock()
	s.created[index] = true
	s.mu.Unlock()
	return nil
}

func (s *Sink) hwmOf(topic string, p int32) *atomic.Int64 {
	key := topic + "/" + strconv.Itoa(int(p))
	v, _ := s.hwm.LoadOrStore(key, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// DeadLetter is the value of a dead-letter record: why Elasticsearch (or
// the sink) refused the document, where it came from, and the document.
type DeadLetter struct {
	Reason     string          `json:"reason"`
	Status     int             `json:"status,omitempty"`
	Topic      string          `json:"topic"`
	Partition  int32           `json:"partition"`
	Offset     int64           `json:"offset"`
	Key        string          `json:"key,omitempty"`
	Index      string          `json:"index,omitempty"`
	ID         string          `json:"id,omitempty"`
	RejectedAt time.Time       `json:"rejected_at"`
	Document   json.RawMessage `json:"document,omitempty"`
	// Raw holds a record that is not JSON, as text.
	Raw string `json:"raw,omitempty"`
}

func deadLetter(it *item) DeadLetter {
	d := DeadLetter{Reason: it.reason, Status: it.status, Topic: it.msg.Topic, Partition: it.msg.Partition,
		Offset: it.msg.Offset, Key: string(it.msg.Key), Index: it.index, ID: it.id, RejectedAt: time.Now().UTC()}
	if json.Valid(it.msg.Value) {
		d.Document = it.msg.Value
	} else {
		d.Raw = string(it.msg.Value)
	}
	return d
}
