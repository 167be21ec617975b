package exactly

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// Window keeps state that a group changes at every input but writes to
// Kafka at most once per window: the day aggregates of the IP stage, which
// every event changes and which used to cost a loopback record and a table
// write per event.
//
// The group changes its state in memory through Update and hands over the
// input's commit (goka's ctx.DeferCommit); every Every the window writes
// each partition's changed records (Collect) to Topic and, once Kafka has
// acknowledged them, lets the inputs they hold be committed. So a committed
// input's effect is always in Topic, and an input whose effect is not is
// never committed: after a crash or a rebalance the partition's next owner
// loads the last written state (Restore) and the replayed inputs find it.
// The state must therefore record which inputs it holds (the IP stage's
// day aggregates keep the last applied ssh-log offset) so a replay does not
// apply one twice.
//
// Alerts are not delayed: only commits wait for the window.
type Window struct {
	cfg  WindowConfig
	prod sarama.SyncProducer

	mu    sync.Mutex
	parts map[int32]*windowPart
	// flushing serialises writes, so a Restore never misses one in flight.
	flushing sync.Mutex
}

// WindowConfig configures a Window.
type WindowConfig struct {
	Kafka config.Kafka
	// Topic receives the records (a compacted topic: the latest record per
	// key is the state).
	Topic string
	// Every is the longest an input waits for its commit (default 100 ms).
	Every time.Duration
	// Collect returns partition p's records changed since the last call; it
	// runs under p's lock.
	Collect func(p int32) []Record
	// Restore sets partition p's state from the records of Topic (every
	// partition's, oldest first); it runs under p's lock before the first
	// Update of p after an assignment.
	Restore func(p int32, recs []Record) error
	// Table, if set, is the group's table topic: Collect may return records
	// for it (Record.Topic), which the window writes to the table topic and,
	// once acknowledged, to the local store of Stores, as goka's SetValue
	// does; then it calls Written under p's lock.
	Table   string
	Stores  *Stores
	Written func(p int32, recs []Record)
}

// Record is one keyed value of a Window's topic (Topic empty) or of the
// group's table (Topic = WindowConfig.Table).
type Record struct {
	Topic string
	Key   string
	Value []byte
}

// windowPart is one partition's held commits.
type windowPart struct {
	mu       sync.Mutex
	restored bool
	held     []func(error)
}

// NewWindow returns a window; Run writes it.
func NewWindow(cfg WindowConfig) *Window {
	if cfg.Every <= 0 {
		cfg.Every = 100 * time.Millisecond
	}
	return &Window{cfg: cfg, parts: map[int32]*windowPart{}}
}

// part returns partition p's state, made on first use.
func (w *Window) part(p int32) *windowPart {
	w.mu.Lock()
	defer w.mu.Unlock()
	wp := w.parts[p]
	if wp == nil {
		wp = &windowPart{}
		w.parts[p] = wp
	}
	return wp
}

// Assign marks the partitions of a new assignment to be restored before
// their next change: another instance may have changed them meanwhile.
// (The restore runs in the partition's own goroutine, at its first Update:
// a restore beside the partition's changes would replace changes it never
// read.)
func (w *Window) Assign(parts []int32) {
	for _, p := range parts {
		wp := w.part(p)
		wp.mu.Lock()
		wp.restored = false
		wp.mu.Unlock()
	}
}

// Update runs change on partition p's state, under p's lock, and holds
// release (the input's deferred commit) until the next write of p is
// acknowledged. The first Update of p after an assignment restores p first.
func (w *Window) Update(ctx context.Context, p int32, change func(), release func(error)) error {
	wp := w.part(p)
	wp.mu.Lock()
	restored := wp.restored
	wp.mu.Unlock()
	if !restored {
		if err := w.restore(ctx, p, wp); err != nil {
			return err
		}
	}
	wp.mu.Lock()
	defer wp.mu.Unlock()
	change()
	wp.held = append(wp.held, release)
	return nil
}

// restore loads Topic and hands it to Restore. Writes of this instance
// still in flight finish first (flushing), so the load sees them. Only the
// partition's own goroutine changes it, so nothing changes p meanwhile.
func (w *Window) restore(ctx context.Context, p int32, wp *windowPart) error {
	// Changes not written yet are written first: the load replaces them.
	if err := w.Flush(); err != nil {
		return fmt.Errorf("restore partition %d from %s: %w", p, w.cfg.Topic, err)
	}
	w.flushing.Lock()
	defer w.flushing.Unlock()
	var recs []Record
	err := topics.ReadAll(ctx, w.cfg.Kafka, w.cfg.Topic, func(m *sarama.ConsumerMessage) error {
		recs = append(recs, Record{Key: string(m.Key), Value: m.Value})
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore partition %d from %s: %w", p, w.cfg.Topic, err)
	}
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if err := w.cfg.Restore(p, recs); err != nil {
		return fmt.Errorf("restore partition %d from %s: %w", p, w.cfg.Topic, err)
	}
	wp.restored = true
	return nil
}

// Run writes the window every Every until ctx ends, then once more, so the
// inputs the group's shutdown waits for are released. Stop the group's
// processor before ctx ends: goka waits up to a minute for held inputs.
func (w *Window) Run(ctx context.Context) error {
	prod, err := sarama.NewSyncProducer(w.cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-window"))
	if err != nil {
		return fmt.Errorf("window %s: producer: %w", w.cfg.Topic, err)
	}
	w.flushing.Lock()
	w.prod = prod
	w.flushing.Unlock()
	defer prod.Close()
	tick := time.NewTicker(w.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return w.Flush()
		case <-tick.C:
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// Flush writes every partition's changed records (also those a restore
// changed, with no input held) and releases the inputs they hold. A failed write fails the held inputs (goka then stops the
// group, which resumes from the last commit).
func (w *Window) Flush() error {
	w.flushing.Lock()
	defer w.flushing.Unlock()
	w.mu.Lock()
	parts := make(map[int32]*windowPart, len(w.parts))
	for p, wp := range w.parts {
		parts[p] = wp
	}
	w.mu.Unlock()
	var msgs []*sarama.ProducerMessage
	var held []func(error)
	collected := map[int32][]Record{}
	for p, wp := range parts {
		wp.mu.Lock()
		recs := w.cfg.Collect(p)
		for _, r := range recs {
			topic := r.Topic
			if topic == "" {
				topic = w.cfg.Topic
			}
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.Key),
				Value: sarama.ByteEncoder(r.Value), Metadata: p})
		}
		collected[p] = recs
		held = append(held, wp.held...)
		wp.held = nil
		wp.mu.Unlock()
	}
	if len(held) == 0 && len(msgs) == 0 {
		return nil
	}
	err := w.write(msgs)
	if err == nil && w.cfg.Table != "" {
		err = w.store(msgs)
		for p, recs := range collected {
			wp := parts[p]
			wp.mu.Lock()
			w.cfg.Written(p, recs)
			wp.mu.Unlock()
		}
	}
	for _, release := range held {
		release(err)
	}
	return err
}

// write sends msgs and waits for Kafka's acknowledgement.
func (w *Window) write(msgs []*sarama.ProducerMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	if w.prod == nil {
		return fmt.Errorf("window %s: not running", w.cfg.Topic)
	}
	if err := w.prod.SendMessages(msgs); err != nil {
		return fmt.Errorf("window %s: write %d records: %w", w.cfg.Topic, len(msgs), err)
	}
	return nil
}

// store puts the acknowledged table records into the local stores, with
// the offset of the last one per partition (goka resumes recovering the
// table after it).
func (w *Window) store(msgs []*sarama.ProducerMessage) error {
	last := map[int32]int64{}
	for _, m := range msgs {
		if m.Topic != w.cfg.Table {
			continue
		}
		p := m.Metadata.(int32)
		if m.Partition != p {
			return fmt.Errorf("window: table record %s went to partition %d, not its input's %d", m.Key, m.Partition, p)
		}
		st := w.cfg.Stores.store(w.cfg.Table, p)
		if st == nil {
			return fmt.Errorf("window: no open store for %s/%d", w.cfg.Table, p)
		}
		v, _ := m.Value.Encode()
		k, _ := m.Key.Encode()
		if err := st.Set(string(k), v); err != nil {
			return err
		}
		last[p] = max(last[p], m.Offset)
	}
	for p, off := range last {
		if err := w.cfg.Stores.store(w.cfg.Table, p).SetOffset(off); err != nil {
			return err
		}
	}
	return nil
}
