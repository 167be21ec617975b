package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Txn sends records in Kafka transactions: the records of one Commit become
// visible to read_committed consumers together, or not at all. It is the
// exactly-once ingest's producer: a batch of lines and the file positions
// after them are one transaction, so a crash can neither lose nor repeat a
// line (connectors/ingest).
//
// One Txn has one transactional id. Creating it fences every older producer
// with that id (their next commit fails) and aborts the transaction one of
// them left open. One transaction is open at a time.
type Txn struct {
	producer sarama.AsyncProducer
	id       string
	log      *slog.Logger

	failed error // first delivery error of the open transaction
	errMu  sync.Mutex
	// closing and busy: Close while a Commit waits (its caller gave up on
	// it) leaves the producer to that Commit, which closes it when it
	// returns.
	stateMu       sync.Mutex
	closing, busy bool
	drained       sync.WaitGroup // the goroutines reading Successes and Errors
}

// Message is one record of a transaction.
type Message struct {
	Topic string
	Key   []byte
	Value []byte // nil: a tombstone (compacted topics)
	// PartitionKey places the record (kafkaconfig.Partitioned); nil: Key.
	PartitionKey []byte
}

// ErrFenced reports that a newer producer with the same transactional id
// exists: another instance took over (or this one's transaction outlived the
// transaction timeout). The fenced producer must stop; only a fresh start,
// which reads the committed positions again, may continue.
var ErrFenced = errors.New("fenced by a newer producer with the same transactional id")

// NewTxn connects a transactional producer with cfg (kafkaconfig.Transactional).
func NewTxn(brokers []string, cfg *sarama.Config, log *slog.Logger) (*Txn, error) {
	if cfg.Producer.Transaction.ID == "" {
		return nil, errors.New("publish: transactional producer without a transactional id")
	}
	producer, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("transactional producer %s: %w", cfg.Producer.Transaction.ID, fenced(err))
	}
	t := &Txn{producer: producer, id: cfg.Producer.Transaction.ID, log: log}
	t.drained.Add(2)
	go func() {
		defer t.drained.Done()
		for range producer.Successes() {
		}
	}()
	go func() {
		defer t.drained.Done()
		for e := range producer.Errors() {
			t.errMu.Lock()
			if t.failed == nil {
				t.failed = e.Err
			}
			t.errMu.Unlock()
		}
	}()
	return t, nil
}

// Begin opens a transaction; Send and SendMessages add records to it, Commit
// ends it. One transaction is open at a time.
func (t *Txn) Begin() error {
	t.stateMu.Lock()
	closing := t.closing
	t.stateMu.Unlock()
	if closing {
		return errors.New("publish: transactional producer closed")
	}
	t.errMu.Lock()
	t.failed = nil
	t.errMu.Unlock()
	if err := t.producer.BeginTxn(); err != nil {
		return fmt.Errorf("begin transaction %s: %w", t.id, fenced(err))
	}
	return nil
}

// Send queues every record of b to topic in the open transaction. The
// records are on their way while the caller prepares the next ones; b must
// not change until Commit returns.
func (t *Txn) Send(topic string, b *Batch) error {
	if len(b.Values) != len(b.Keys) || len(b.PartitionKeys) != len(b.Keys) {
		return fmt.Errorf("publish: batch of %d keys, %d values, %d partition keys", len(b.Keys), len(b.Values), len(b.PartitionKeys))
	}
	// One allocation of messages and one of metadata per batch; keys and
	// values go in as pointers, so no record boxes its slice in an interface.
	n := len(b.Keys)
	b.msgs = make([]sarama.ProducerMessage, n)
	b.meta = make([]record, n)
	for i := range b.msgs {
		b.meta[i] = record{pkey: b.PartitionKeys[i]}
		m := &b.msgs[i]
		m.Topic, m.Key, m.Value, m.Metadata = topic, &b.Keys[i], &b.Values[i], &b.meta[i]
		t.producer.Input() <- m
	}
	return nil
}

// SendMessages queues ms in the open transaction.
func (t *Txn) SendMessages(ms []Message) {
	for i := range ms {
		m := &ms[i]
		pm := &sarama.ProducerMessage{Topic: m.Topic, Key: sarama.ByteEncoder(m.Key)}
		if m.Value != nil {
			pm.Value = sarama.ByteEncoder(m.Value)
		}
		if m.PartitionKey != nil {
			pm.Metadata = &record{pkey: m.PartitionKey}
		}
		t.producer.Input() <- pm
	}
}

// Commit commits the open transaction. It returns nil only when the
// transaction committed. On an error the transaction was aborted, or its
// outcome is unknown (a commit whose answer was lost may have committed):
// the caller must not send the same records again on this producer's word,
// but find out from Kafka what committed (the ingest reads its positions
// back). An error wrapping ErrFenced means this producer may never commit
// again.
func (t *Txn) Commit() error {
	t.stateMu.Lock()
	if t.closing {
		t.stateMu.Unlock()
		return errors.New("publish: transactional producer closed")
	}
	t.busy = true
	t.stateMu.Unlock()
	defer t.done()
	err := t.producer.CommitTxn()
	if err == nil {
		return nil
	}
	t.errMu.Lock()
	cause := t.failed
	t.errMu.Unlock()
	if aerr := t.producer.AbortTxn(); aerr != nil {
		err = errors.Join(err, fmt.Errorf("abort: %w", aerr))
	}
	if cause != nil {
		err = errors.Join(err, fmt.Errorf("delivery: %w", cause))
	}
	return fmt.Errorf("commit transaction %s: %w", t.id, fenced(err))
}

// Abort aborts the open transaction (a clean shutdown in the middle of
// one), so read_committed consumers need not wait for its timeout.
func (t *Txn) Abort() error {
	if err := t.producer.AbortTxn(); err != nil {
		return fmt.Errorf("abort transaction %s: %w", t.id, fenced(err))
	}
	return nil
}

// done ends a Commit's hold on the producer; a Close that came meanwhile
// closes it now.
func (t *Txn) done() {
	t.stateMu.Lock()
	t.busy = false
	closing := t.closing
	t.stateMu.Unlock()
	if closing {
		go t.closeProducer()
	}
}

// Close closes the producer; an open transaction is aborted by the next
// producer with the same id, or when it times out. A Commit still waiting
// (its caller gave up on it) closes the producer when it returns.
func (t *Txn) Close() error {
	t.stateMu.Lock()
	t.closing = true
	busy := t.busy
	t.stateMu.Unlock()
	if busy {
		return nil
	}
	return t.closeProducer()
}

func (t *Txn) closeProducer() error {
	done := make(chan error, 1)
	go func() { done <- t.producer.Close() }()
	var err error
	select {
	case err = <-done:
		t.drained.Wait()
	case <-time.After(10 * time.Second):
		err = errors.New("publish: transactional producer did not close in 10 s")
	}
	return err
}

// fenced wraps err with ErrFenced when Kafka says a newer producer exists.
func fenced(err error) error {
	if errors.Is(err, sarama.ErrProducerFenced) || errors.Is(err, sarama.ErrInvalidProducerEpoch) {
		return fmt.Errorf("%w: %w", ErrFenced, err)
	}
	return err
}
