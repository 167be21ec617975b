// Package agent is `logmon agent`'s sampling side: every interval it takes
// a host sample (connectors/hostmetrics), appends its JSON to an on-disk
// spool (connectors/spool), and a sender delivers the spool to Kafka's
// system-metrics in order (key: the host name; acks=all, idempotent),
// removing records only once Kafka acknowledged them. While Kafka is
// unreachable sampling goes on into the spool, up to its bound (the oldest
// are dropped and counted). A crash between an acknowledgement and the
// removal sends a sample again: consumers take a sample once per (host,
// @timestamp) (the host stage ignores one not newer than the latest; the
// index's document ids derive from both).
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/spool"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// Sampler takes one host sample (hostmetrics.Sampler).
type Sampler interface {
	Sample(ctx context.Context) (contracts.HostSample, error)
}

// Config is what the agent needs.
type Config struct {
	Kafka config.Kafka
	// Topic defaults to contracts.TopicSystemMetrics.
	Topic    string
	Host     string
	Interval time.Duration
	Sampler  Sampler
	Spool    *spool.Spool
}

// Agent samples and delivers.
type Agent struct {
	cfg Config
	log *slog.Logger
	m   metrics
}

type metrics struct {
	taken, sent, sendErrors, sampleErrors prometheus.Counter
}

// New returns an agent; reg (may be nil) gets its metrics.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) *Agent {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSystemMetrics
	}
	a := &Agent{cfg: cfg, log: log.With("host", cfg.Host)}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_agent_" + name, Help: help})
	}
	a.m = metrics{taken: c("samples_total", "Host samples taken."), sent: c("sent_total", "Host samples Kafka acknowledged."),
		sendErrors: c("send_errors_total", "Failed deliveries to Kafka (retried)."), sampleErrors: c("sample_errors_total", "Failed samples.")}
	if reg != nil {
		sp := cfg.Spool
		reg.MustRegister(a.m.taken, a.m.sent, a.m.sendErrors, a.m.sampleErrors,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logmon_agent_spooled", Help: "Samples waiting in the spool."}, func() float64 { return float64(sp.Len()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "logmon_agent_dropped_total", Help: "Samples dropped: the spool was full."}, func() float64 { return float64(sp.Dropped()) }))
	}
	return a
}

// Run ensures the topic, then samples and delivers until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	if _, err := topics.Ensure(ctx, a.cfg.Kafka, []topics.Spec{{Name: a.cfg.Topic}}, a.log); err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- a.send(ctx, wake) }()
	a.sample(ctx, wake)
	// A send may be retrying against a dead cluster: what it holds stays
	// in the spool for the next start, so shutdown waits only briefly.
	select {
	case err := <-done:
		return err
	case <-time.After(shutdownGrace):
		a.log.Warn("stopping while samples are still being sent; they stay in the spool", "spooled", a.cfg.Spool.Len())
		return nil
	}
}

// shutdownGrace is how long a stopping agent waits for a send in progress.
const shutdownGrace = 3 * time.Second

// sample appends a sample to the spool every interval until ctx ends.
func (a *Agent) sample(ctx context.Context, wake chan<- struct{}) {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		s, err := a.cfg.Sampler.Sample(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			a.m.sampleErrors.Inc()
			a.log.Warn("sample failed", "err", err)
		default:
			a.m.taken.Inc()
			if err := a.spoolSample(&s); err != nil {
				a.log.Error("sample not spooled", "seq", s.Seq, "err", err)
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) spoolSample(s *contracts.HostSample) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode sample: %w", err)
	}
	return a.cfg.Spool.Append(b)
}

// ackedPrefix is how many of msgs, from the first, Kafka acknowledged
// when SendMessages failed with err.
func ackedPrefix(msgs []*sarama.ProducerMessage, err error) int {
	var perrs sarama.ProducerErrors
	if !errors.As(err, &perrs) {
		return 0
	}
	failed := make(map[*sarama.ProducerMessage]bool, len(perrs))
	for _, e := range perrs {
		failed[e.Msg] = true
	}
	n := 0
	for n < len(msgs) && !failed[msgs[n]] {
		n++
	}
	return n
}

// producerConfig is the project's producer: acks=all, idempotent, and
// retrying for about ten minutes. Retries of one producer keep their
// sequence numbers, so the broker drops a batch it already has (an
// acknowledgement lost in an outage); a new producer after a failure
// would send it again. (Measured: with 5 retries and a fresh producer per
// failure, a 12 s outage doubled a sample.)
func producerConfig() *sarama.Config { return kafkaconfig.Sarama("logmon-agent") }

// sendBatch is how many spooled samples one request carries.
const sendBatch = 500

// send delivers the spool, oldest first, whenever woken, retrying with
// backoff while Kafka fails.
func (a *Agent) send(ctx context.Context, wake <-chan struct{}) error {
	var prod sarama.SyncProducer
	defer func() {
		if prod != nil {
			_ = prod.Close()
		}
	}()
	backoff := time.Second
	for {
		err := a.drain(&prod)
		if err == nil {
			backoff = time.Second
			select {
			case <-ctx.Done():
				return nil
			case <-wake:
			}
			continue
		}
		a.m.sendErrors.Inc()
		a.log.Warn("samples not delivered; retrying", "spooled", a.cfg.Spool.Len(), "dropped", a.cfg.Spool.Dropped(), "retry_in", backoff, "err", err)
		if prod != nil {
			_ = prod.Close() // a fresh producer after an error: its metadata and connections start over
			prod = nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// drain sends everything spooled, in batches, each removed once Kafka
// acknowledged it.
func (a *Agent) drain(prod *sarama.SyncProducer) error {
	for {
		recs, seqs, err := a.cfg.Spool.Peek(sendBatch)
		if err != nil || len(recs) == 0 {
			return err
		}
		if *prod == nil {
			p, err := sarama.NewSyncProducer(a.cfg.Kafka.Brokers, producerConfig())
			if err != nil {
				return fmt.Errorf("producer: %w", err)
			}
			*prod = p
		}
		msgs := make([]*sarama.ProducerMessage, len(recs))
		for i, r := range recs {
			msgs[i] = &sarama.ProducerMessage{Topic: a.cfg.Topic, Key: sarama.StringEncoder(a.cfg.Host), Value: sarama.ByteEncoder(r)}
		}
		if err := (*prod).SendMessages(msgs); err != nil {
			// The samples of one host go to one partition in order, so
			// those acknowledged are a prefix: remove them, or a new
			// producer would send them again.
			if n := ackedPrefix(msgs, err); n > 0 {
				a.m.sent.Add(float64(n))
				if rerr := a.cfg.Spool.Remove(seqs[n-1]); rerr != nil {
					return rerr
				}
			}
			return fmt.Errorf("send %d samples to %s: %w", len(msgs), a.cfg.Topic, err)
		}
		a.m.sent.Add(float64(len(msgs)))
		if err := a.cfg.Spool.Remove(seqs[len(seqs)-1]); err != nil {
			return err
		}
	}
}
