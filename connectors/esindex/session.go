package esindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// finalFlushTimeout bounds the last flush of a session (shutdown, rebalance):
// what it cannot write is not committed and comes again.
const finalFlushTimeout = 15 * time.Second

// handler is the sarama.ConsumerGroupHandler; each session gets its writer.
type handler struct {
	s   *Sink
	dlq sarama.SyncProducer

	in   chan *sarama.ConsumerMessage
	done chan struct{}
}

func (h *handler) Setup(sess sarama.ConsumerGroupSession) error {
	h.in = make(chan *sarama.ConsumerMessage, h.s.cfg.BatchDocs)
	h.done = make(chan struct{})
	w := &writer{s: h.s, dlq: h.dlq, sess: sess, in: h.in}
	go func() {
		defer close(h.done)
		w.run()
	}()
	h.s.log.Info("partitions assigned", "claims", sess.Claims())
	return nil
}

// Cleanup runs once every ConsumeClaim returned: the writer flushes what it
// holds, marks and commits, then stops.
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error {
	close(h.in)
	<-h.done
	return nil
}

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	hwm := h.s.hwmOf(claim.Topic(), claim.Partition())
	hwm.Store(claim.HighWaterMarkOffset())
	// A group without a committed offset starts at the oldest record: its
	// lag is at most the high-water mark until the first commit.
	start := max(claim.InitialOffset(), 0)
	h.s.m.lag.WithLabelValues(claim.Topic(), strconv.Itoa(int(claim.Partition()))).Set(float64(max(claim.HighWaterMarkOffset()-start, 0)))
	ctx := sess.Context()
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			hwm.Store(claim.HighWaterMarkOffset())
			select {
			case h.in <- m:
			case <-ctx.Done():
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// writer batches one session's records and writes them.
type writer struct {
	s    *Sink
	dlq  sarama.SyncProducer
	sess sarama.ConsumerGroupSession
	in   <-chan *sarama.ConsumerMessage

	buf []byte // the bulk body, reused (flushAll's goroutine only)
	// failing is set while Elasticsearch fails, for logging once per outage.
	failing  bool
	lastWarn time.Time
}

// run cuts batches while the previous one is being written: one batch in
// flight and one waiting at most, written and committed strictly in order.
func (w *writer) run() {
	batches := make(chan []*sarama.ConsumerMessage, 1)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		w.flushAll(batches)
	}()
	defer func() {
		close(batches)
		<-flushed
	}()
	tick := time.NewTicker(w.s.cfg.FlushInterval)
	defer tick.Stop()
	var batch []*sarama.ConsumerMessage
	size := 0
	hand := func() {
		if len(batch) > 0 {
			batches <- batch
			batch, size = nil, 0
		}
	}
	for {
		select {
		case m, ok := <-w.in:
			if !ok {
				hand()
				return
			}
			batch = append(batch, m)
			size += len(m.Value) + 128
			if len(batch) >= w.s.cfg.BatchDocs || size >= w.s.cfg.BatchBytes {
				hand()
			}
		case <-tick.C:
			hand()
		}
	}
}

// flushAll writes each batch and then marks and commits its offsets. Once
// the session ends, the batches left get one bounded attempt; after a batch
// that could not be written nothing more is committed (order), and the rest
// is consumed again by whoever gets the partitions.
func (w *writer) flushAll(batches <-chan []*sarama.ConsumerMessage) {
	ctx := w.sess.Context()
	var final context.Context
	broken := false
	for b := range batches {
		if broken {
			continue
		}
		err := w.write(ctx, b)
		if err != nil && ctx.Err() != nil {
			if final == nil {
				var cancel context.CancelFunc
				final, cancel = context.WithTimeout(context.Background(), finalFlushTimeout)
				defer cancel()
			}
			ctx = final
			err = w.write(ctx, b)
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				w.s.log.Error("batch not written; it will be consumed again", "docs", len(b), "err", err)
			}
			broken = true
			continue
		}
		w.commit(b)
		w.s.m.batch.Observe(float64(len(b)))
	}
}

// write indexes msgs until every one is acknowledged, known stale, expired
// or in the dead-letter topic; only ctx ending stops it.
func (w *writer) write(ctx context.Context, msgs []*sarama.ConsumerMessage) error {
	now := time.Now()
	var pending, dead []*item
	for _, m := range msgs {
		for _, it := range w.prepare(m, now) {
			if it.reason != "" {
				dead = append(dead, it)
			} else {
				pending = append(pending, it)
			}
		}
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, w.s.cfg.Backoff.Delay(attempt-1)); err != nil {
				return err
			}
		}
		if err := w.ensureIndices(ctx, pending); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.failed("create index", err, len(pending))
			w.s.m.retries.WithLabelValues("transport").Inc()
			continue
		}
		start := time.Now()
		var err error
		w.buf, err = sendBulk(ctx, w.s.es, pending, w.buf)
		w.s.m.bulk.Observe(time.Since(start).Seconds())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var re *requestError
			cause := "transport"
			if errors.As(err, &re) {
				cause = re.cause
			}
			w.s.m.retries.WithLabelValues(cause).Inc()
			w.failed("bulk", err, len(pending))
			continue
		}
		w.recovered()
		var again []*item
		var done [kindCount]int // acknowledged documents by kind
		for _, it := range pending {
			switch classify(it) {
			case indexed:
				done[it.kind]++
			case stale:
				w.s.m.stale.Inc()
			case retry:
				cause := "item_5xx"
				if it.status == 429 {
					cause = "item_429"
				}
				w.s.m.retries.WithLabelValues(cause).Inc()
				again = append(again, it)
			case rejected:
				dead = append(dead, it)
			}
		}
		for k, n := range done {
			if n > 0 {
				w.s.m.docs.WithLabelValues(Kind(k).String()).Add(float64(n))
			}
		}
		pending = again
	}
	return w.deadLetters(ctx, dead)
}

// prepare turns a record into bulk items (one; one per metricset for a
// host sample): none when its index is expired, one with a reason when it
// cannot be indexed at all.
func (w *writer) prepare(m *sarama.ConsumerMessage, now time.Time) []*item {
	k := w.s.kinds[m.Topic]
	if k == KindHosts {
		return w.prepareHost(m, now)
	}
	it := &item{msg: m, kind: k}
	id, t, version, err := docMeta(k, m.Value)
	if err != nil {
		it.reason = "not indexable: " + err.Error()
		return []*item{it}
	}
	it.id = id
	if w.s.layout.TimeBased() && t.IsZero() {
		it.reason = fmt.Sprintf("not indexable: %s record %s has no time to choose its %s index", k, id, w.s.layout.Kind)
		return []*item{it}
	}
	if w.s.layout.Expired(t, now) {
		w.s.m.expired.Inc()
		return nil
	}
	it.index = w.s.layout.Index(k.Base(), t)
	switch k {
	case KindMetrics:
		it.version = m.Offset + 1
	case KindIncidents:
		it.version = version
	}
	return []*item{it}
}

// prepareHost turns a host sample into its Metricbeat-shaped documents.
func (w *writer) prepareHost(m *sarama.ConsumerMessage, now time.Time) []*item {
	docs, t, err := hostDocs(m.Value)
	if err != nil {
		return []*item{{msg: m, kind: KindHosts, reason: "not indexable: " + err.Error()}}
	}
	if w.s.layout.Expired(t, now) {
		w.s.m.expired.Inc()
		return nil
	}
	index := w.s.layout.Index(KindHosts.Base(), t)
	out := make([]*item, len(docs))
	for i, d := range docs {
		out[i] = &item{msg: m, kind: KindHosts, index: index, id: d.id, body: d.body}
	}
	return out
}

func (w *writer) ensureIndices(ctx context.Context, items []*item) error {
	last := ""
	for _, it := range items {
		if it.index == last { // a batch mostly holds runs of one index
			continue
		}
		last = it.index
		if err := w.s.ensureIndex(ctx, it.index, it.kind); err != nil {
			return err
		}
	}
	return nil
}

// deadLetters sends the refused records to the dead-letter topic; Sarama
// retries until the brokers acknowledge.
func (w *writer) deadLetters(ctx context.Context, dead []*item) error {
	if len(dead) == 0 {
		return nil
	}
	msgs := make([]*sarama.ProducerMessage, 0, len(dead))
	for _, it := range dead {
		b, err := json.Marshal(deadLetter(it))
		if err != nil {
			return fmt.Errorf("dead letter %s/%d/%d: %w", it.msg.Topic, it.msg.Partition, it.msg.Offset, err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: w.s.cfg.DLQTopic, Key: sarama.ByteEncoder(it.msg.Key), Value: sarama.ByteEncoder(b)})
		w.s.log.Warn("document refused; sent to the dead-letter topic", "topic", it.msg.Topic, "partition", it.msg.Partition,
			"offset", it.msg.Offset, "id", it.id, "status", it.status, "reason", it.reason, "dlq", w.s.cfg.DLQTopic)
	}
	for attempt := 0; ; attempt++ {
		err := w.dlq.SendMessages(msgs)
		if err == nil {
			break
		}
		w.s.log.Warn("dead-letter topic refused records; retrying", "err", err)
		if serr := sleep(ctx, w.s.cfg.Backoff.Delay(attempt)); serr != nil {
			return serr
		}
	}
	for _, it := range dead {
		w.s.m.rejected.WithLabelValues(it.kind.String()).Inc()
	}
	return nil
}

// commit marks the next offset of every partition in msgs and commits. A
// batch holds each partition's records in order, after everything earlier
// was written, so the highest offset per partition is exact.
func (w *writer) commit(msgs []*sarama.ConsumerMessage) {
	type tp struct {
		topic string
		p     int32
	}
	next := map[tp]int64{}
	for _, m := range msgs {
		k := tp{m.Topic, m.Partition}
		if m.Offset+1 > next[k] {
			next[k] = m.Offset + 1
		}
	}
	for k, off := range next {
		w.sess.MarkOffset(k.topic, k.p, off, "")
		lag := w.s.hwmOf(k.topic, k.p).Load() - off
		if lag < 0 {
			lag = 0
		}
		w.s.m.lag.WithLabelValues(k.topic, strconv.Itoa(int(k.p))).Set(float64(lag))
	}
	w.sess.Commit()
}

func (w *writer) failed(what string, err error, docs int) {
	w.s.m.up.Set(0)
	if !w.failing || time.Since(w.lastWarn) > 30*time.Second {
		w.s.log.Warn("elasticsearch write failed; consuming paused, retrying with backoff", "step", what, "docs", docs, "err", err)
		w.lastWarn = time.Now()
	}
	w.failing = true
}

func (w *writer) recovered() {
	w.s.m.up.Set(1)
	if w.failing {
		w.s.log.Info("elasticsearch writes work again; resuming")
		w.failing = false
	}
}
