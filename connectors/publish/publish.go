// Package publish sends batches of records to a Kafka topic with the
// project's producer (acks=all, idempotent, lz4) and reports each batch done
// only when Kafka acknowledged every record of it. A caller advances its own
// durable position (the tail registry) from that report, so a crash re-sends
// what was not acknowledged and never skips it.
//
// Memory is bounded by the caller: Send blocks while Sarama's input queue is
// full, and the tailer limits how many batches are outstanding.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// Batch is a set of records that is acknowledged as a whole.
type Batch struct {
	// Keys[i], Values[i] and PartitionKeys[i] make record i. Values usually
	// slice one shared buffer; they must not change until Done is called.
	Keys          []sarama.ByteEncoder
	Values        []sarama.ByteEncoder
	PartitionKeys [][]byte
	// Done is called once, from the publisher's goroutine, when every record
	// is acknowledged (err nil) or when one failed for good.
	Done func(err error)

	msgs    []sarama.ProducerMessage
	meta    []record
	pending atomic.Int64
	failed  atomic.Pointer[error]
}

// record is one message's metadata: its batch and its partitioning key.
type record struct {
	batch *Batch
	pkey  []byte
}

// PartitionKey places the message by the source IP (kafkaconfig.Partitioned).
func (r *record) PartitionKey() []byte { return r.pkey }

// Stats are the publisher's counters.
type Stats struct {
	Sent, Acked, Failed int64
	Batches             int64
}

// Publisher sends batches to one topic.
type Publisher struct {
	topic    string
	producer sarama.AsyncProducer
	log      *slog.Logger

	sent, acked, failed, batches atomic.Int64
	wg                           sync.WaitGroup
}

// New connects a producer for topic with the shared Kafka configuration.
func New(k config.Kafka, topic string, log *slog.Logger) (*Publisher, error) {
	cfg := kafkaconfig.Sarama("logmon-ingest")
	producer, err := sarama.NewAsyncProducer(k.Brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("kafka producer for %s: %w", topic, err)
	}
	p := &Publisher{topic: topic, producer: producer, log: log}
	p.wg.Add(2)
	go p.successes()
	go p.errors()
	return p, nil
}

// Send queues every record of b. It blocks while the producer's queue is
// full (back-pressure) and returns early only when ctx ends; records already
// queued are still delivered and reported through b.Done.
func (p *Publisher) Send(ctx context.Context, b *Batch) error {
	n := len(b.Keys)
	if len(b.Values) != n || len(b.PartitionKeys) != n {
		return fmt.Errorf("publish: batch of %d keys, %d values, %d partition keys", n, len(b.Values), len(b.PartitionKeys))
	}
	if n == 0 {
		b.Done(nil)
		return nil
	}
	b.msgs = make([]sarama.ProducerMessage, n)
	b.meta = make([]record, n)
	b.pending.Store(int64(n))
	p.batches.Add(1)
	for i := range b.msgs {
		b.meta[i] = record{batch: b, pkey: b.PartitionKeys[i]}
		m := &b.msgs[i]
		m.Topic = p.topic
		m.Key = &b.Keys[i]
		m.Value = &b.Values[i]
		m.Metadata = &b.meta[i]
		select {
		case p.producer.Input() <- m:
			p.sent.Add(1)
		case <-ctx.Done():
			// The records never queued count as failed so Done still fires.
			p.finish(b, int64(n-i), ctx.Err())
			return ctx.Err()
		}
	}
	return nil
}

func (p *Publisher) successes() {
	defer p.wg.Done()
	for m := range p.producer.Successes() {
		p.acked.Add(1)
		r := m.Metadata.(*record)
		p.finish(r.batch, 1, nil)
	}
}

func (p *Publisher) errors() {
	defer p.wg.Done()
	for e := range p.producer.Errors() {
		p.failed.Add(1)
		r := e.Msg.Metadata.(*record)
		p.log.Error("record not delivered", "topic", p.topic, "err", e.Err)
		p.finish(r.batch, 1, fmt.Errorf("publish to %s: %w", p.topic, e.Err))
	}
}

// finish counts n records of b as done; the last one calls b.Done.
func (p *Publisher) finish(b *Batch, n int64, err error) {
	if err != nil {
		b.failed.CompareAndSwap(nil, &err)
	}
	if b.pending.Add(-n) != 0 {
		return
	}
	if e := b.failed.Load(); e != nil {
		b.Done(*e)
		return
	}
	b.Done(nil)
}

// Stats returns the counters.
func (p *Publisher) Stats() Stats {
	return Stats{Sent: p.sent.Load(), Acked: p.acked.Load(), Failed: p.failed.Load(), Batches: p.batches.Load()}
}

// Close flushes what is queued, waits for every acknowledgement and closes
// the producer.
func (p *Publisher) Close() error {
	p.producer.AsyncClose()
	p.wg.Wait()
	if f := p.failed.Load(); f > 0 {
		return errors.New("publish: " + fmt.Sprint(f) + " records were not delivered")
	}
	return nil
}
