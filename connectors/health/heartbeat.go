// Package health is the pipeline watching itself: every component's
// heartbeat (Publisher), the status of the whole pipeline gathered from
// Kafka, Elasticsearch and the heartbeats (Collector, `logmon status`,
// GET /v1/status), and the self-alerts raised from successive statuses
// (Watchdog). docs/health.md describes it for people.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// DefaultInterval is how often a component publishes its heartbeat and how
// often the watchdog looks at the pipeline.
const DefaultInterval = 10 * time.Second

// HeartbeatsSpec is the heartbeats topic: compacted, one partition, with
// hourly segments so that compaction keeps it small.
func HeartbeatsSpec(name string) topics.Spec {
	return topics.Spec{Name: name, Partitions: 1, Compacted: true, Segment: time.Hour}
}

// Source is one component of the process, as its heartbeat tells it.
type Source struct {
	Component string
	// Progress counts the component's work; nil: no notion of progress.
	Progress func() float64
	// Stats are counters the status shows (contracts.Stat* names).
	Stats func() map[string]float64
	// Ready is the component's readiness (nil error: ready).
	Ready func() error
}

// Publisher publishes the heartbeats of a process's components every
// Interval, and a last one marked stopped when ctx ends.
type Publisher struct {
	Kafka    config.Kafka
	Topic    string
	Instance string
	Version  string
	Interval time.Duration
	Sources  []Source
	Log      *slog.Logger

	started  time.Time
	mu       sync.Mutex
	progress map[string]progressMark
}

type progressMark struct {
	value float64
	at    time.Time
}

// Run publishes until ctx ends. Kafka being unreachable is logged and
// retried at the next interval: a heartbeat never stops its component.
func (p *Publisher) Run(ctx context.Context) error {
	if p.Interval <= 0 {
		p.Interval = DefaultInterval
	}
	if p.Topic == "" {
		p.Topic = contracts.TopicHeartbeats
	}
	if p.Instance == "" {
		p.Instance = DefaultInstance()
	}
	p.started = time.Now().UTC()
	p.progress = map[string]progressMark{}
	var producer sarama.SyncProducer
	defer func() {
		if producer != nil {
			p.publish(producer, true)
			_ = producer.Close()
		}
	}()
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	warned := false
	for {
		if producer == nil {
			var err error
			producer, err = p.connect(ctx)
			if err != nil && !warned {
				p.Log.Warn("heartbeats: Kafka unreachable, trying again every interval", "err", err)
				warned = true
			}
		}
		if producer != nil {
			if err := p.publish(producer, false); err != nil {
				p.Log.Warn("heartbeat not published", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (p *Publisher) connect(ctx context.Context) (sarama.SyncProducer, error) {
	if _, err := topics.Ensure(ctx, p.Kafka, []topics.Spec{HeartbeatsSpec(p.Topic)}, p.Log); err != nil {
		return nil, err
	}
	cfg := kafkaconfig.Sarama("logmon-heartbeat")
	cfg.Producer.Retry.Max = 3 // the next heartbeat replaces a lost one
	// A heartbeat is sent at once, not batched (the project's batching
	// waits for 1 MiB or 250 ms).
	cfg.Producer.Flush.Frequency, cfg.Producer.Flush.Bytes = 0, 0
	producer, err := sarama.NewSyncProducer(p.Kafka.Brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("heartbeat producer: %w", err)
	}
	return producer, nil
}

// publish sends one heartbeat per source.
func (p *Publisher) publish(producer sarama.SyncProducer, stopped bool) error {
	msgs := make([]*sarama.ProducerMessage, 0, len(p.Sources))
	for _, s := range p.Sources {
		hb := p.heartbeat(s, stopped)
		v, err := json.Marshal(hb)
		if err != nil {
			return fmt.Errorf("heartbeat %s: %w", hb.Key(), err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: p.Topic, Key: sarama.StringEncoder(hb.Key()), Value: sarama.ByteEncoder(v)})
	}
	if err := producer.SendMessages(msgs); err != nil {
		return fmt.Errorf("heartbeats to %s: %w", p.Topic, err)
	}
	return nil
}

// heartbeat is source s's heartbeat now.
func (p *Publisher) heartbeat(s Source, stopped bool) *contracts.Heartbeat {
	now := time.Now().UTC()
	host, _ := os.Hostname()
	hb := &contracts.Heartbeat{Component: s.Component, Instance: p.Instance, Host: host, Version: p.Version,
		PID: os.Getpid(), Started: p.started, Time: now, IntervalSeconds: p.Interval.Seconds(), Ready: true, Stopped: stopped}
	if s.Ready != nil {
		if err := s.Ready(); err != nil {
			hb.Ready, hb.Reason = false, err.Error()
		}
	}
	if s.Stats != nil {
		hb.Stats = s.Stats()
	}
	if s.Progress != nil {
		v := s.Progress()
		p.mu.Lock()
		m, seen := p.progress[s.Component]
		if !seen || v != m.value {
			m = progressMark{value: v, at: now}
			if !seen && v == 0 {
				m.at = time.Time{}
			}
			p.progress[s.Component] = m
		}
		p.mu.Unlock()
		hb.Progress, hb.LastProgress = v, m.at
	}
	return hb
}

// DefaultInstance names this process's instance: LOGMON_INSTANCE, or the
// host name. It must stay the same across restarts, so that a restarted
// instance replaces its own heartbeat instead of leaving a missing one.
func DefaultInstance() string {
	if v := os.Getenv(config.EnvInstance); v != "" {
		return v
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "localhost"
	}
	return host
}

// Sum returns the sum over every series of the named metrics in g (a
// counter vector's labels added up): a component's progress or a stat.
func Sum(g prometheus.Gatherer, names ...string) func() float64 {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	return func() float64 {
		mfs, err := g.Gather()
		if err != nil {
			return 0
		}
		var total float64
		for _, mf := range mfs {
			if !want[mf.GetName()] {
				continue
			}
			for _, m := range mf.GetMetric() {
				switch {
				case m.Counter != nil:
					total += m.Counter.GetValue()
				case m.Gauge != nil:
					total += m.Gauge.GetValue()
				}
			}
		}
		return total
	}
}

// SumWhere is Sum over the series whose label has the given value.
func SumWhere(g prometheus.Gatherer, name, label, value string) func() float64 {
	return func() float64 {
		mfs, err := g.Gather()
		if err != nil {
			return 0
		}
		var total float64
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == label && l.GetValue() == value {
						total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
					}
				}
			}
		}
		return total
	}
}
