package exactly

import (
	"context"
	"sort"
	"sync"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// InOrderCommits wraps a goka consumer group builder so that offsets are
// committed only over a contiguous run of finished messages.
//
// Goka marks a message when all its outputs are acknowledged, and outputs
// to different partitions are acknowledged in any order, so message m+1 can
// be marked before m. Sarama's offset manager keeps the highest mark: a
// crash then resumes after m although m's outputs were never written, and m
// is lost (seen as missing day deltas after SIGKILL). Here a mark is held
// back until every message delivered before it is marked too.
func InOrderCommits(b goka.ConsumerGroupBuilder) goka.ConsumerGroupBuilder {
	return new(Withholder).InOrderCommits(b)
}

// Withholder is InOrderCommits for a processor whose callbacks may give up
// on a message: Withhold keeps it, and every later message of its
// partition, from being committed, so the partition's next owner processes
// it. (The tracker's user stage gives up on an event that waited for the
// event-time merge when its partition is revoked: routed then, it would
// reach the user states out of order.)
//
// It also holds the session now running, for the wrapper of every Consume
// call of its group (sessions of one group follow one another).
type Withholder struct {
	mu      sync.Mutex
	session *inOrderSession
	// present, if set, rewrites every message of topic present.topic
	// before goka sees it (Config.Present).
	present *presenter
}

type presenter struct {
	topic string
	f     func(*sarama.ConsumerMessage)
}

// InOrderCommits wraps b as the package's InOrderCommits does, for w.
func (w *Withholder) InOrderCommits(b goka.ConsumerGroupBuilder) goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		cg, err := b(brokers, group, clientID)
		if err != nil {
			return nil, err
		}
		return &inOrderGroup{ConsumerGroup: cg, w: w}, nil
	}
}

// Withhold keeps the message at offset of topic's partition, and every
// later one of that partition, from being committed in the current session
// (the callback handling it returns without its outputs; the session is
// ending, as a revoked partition's is).
func (w *Withholder) Withhold(topic string, partition int32, offset int64) {
	w.mu.Lock()
	s := w.session
	w.mu.Unlock()
	if s != nil {
		s.partition(topic, partition).withhold(offset)
	}
}

// sessionFor is the wrapper of consumer group session s, made at its first
// use.
func (w *Withholder) sessionFor(s sarama.ConsumerGroupSession) *inOrderSession {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.session == nil || w.session.ConsumerGroupSession != s {
		w.session = &inOrderSession{ConsumerGroupSession: s, parts: map[topicPartition]*delivered{}}
	}
	return w.session
}

type inOrderGroup struct {
	sarama.ConsumerGroup
	w *Withholder
}

func (g *inOrderGroup) Consume(ctx context.Context, topics []string, h sarama.ConsumerGroupHandler) error {
	return g.ConsumerGroup.Consume(ctx, topics, &inOrderHandler{inner: h, w: g.w})
}

// inOrderHandler gives goka a session whose marks go through the
// per-partition order, and claims that record what they deliver.
type inOrderHandler struct {
	inner sarama.ConsumerGroupHandler
	w     *Withholder
}

func (h *inOrderHandler) wrap(s sarama.ConsumerGroupSession) *inOrderSession {
	return h.w.sessionFor(s)
}

func (h *inOrderHandler) Setup(s sarama.ConsumerGroupSession) error { return h.inner.Setup(h.wrap(s)) }

func (h *inOrderHandler) Cleanup(s sarama.ConsumerGroupSession) error {
	return h.inner.Cleanup(h.wrap(s))
}

func (h *inOrderHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	ws := h.wrap(s)
	d := ws.partition(c.Topic(), c.Partition())
	// Buffered like the claim's own channel: a synchronous hand-over per
	// message would cost two goroutine switches on the hottest path.
	out := make(chan *sarama.ConsumerMessage, kafkaconfig.ChannelBufferSize)
	var present func(*sarama.ConsumerMessage)
	if h.w.present != nil && h.w.present.topic == c.Topic() {
		present = h.w.present.f
	}
	go func() {
		defer close(out)
		for m := range c.Messages() {
			if present != nil {
				present(m)
			}
			d.deliver(m.Offset)
			select {
			case out <- m:
			case <-s.Context().Done():
				return
			}
		}
	}()
	return h.inner.ConsumeClaim(ws, &inOrderClaim{ConsumerGroupClaim: c, messages: out})
}

type inOrderClaim struct {
	sarama.ConsumerGroupClaim
	messages chan *sarama.ConsumerMessage
}

func (c *inOrderClaim) Messages() <-chan *sarama.ConsumerMessage { return c.messages }

type topicPartition struct {
	topic     string
	partition int32
}

type inOrderSession struct {
	sarama.ConsumerGroupSession
	mu    sync.Mutex
	parts map[topicPartition]*delivered
}

func (s *inOrderSession) partition(topic string, p int32) *delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := topicPartition{topic, p}
	d := s.parts[tp]
	if d == nil {
		d = &delivered{}
		s.parts[tp] = d
	}
	return d
}

// MarkOffset marks offset-1 finished and commits up to the end of the
// contiguous finished run.
func (s *inOrderSession) MarkOffset(topic string, p int32, offset int64, metadata string) {
	if next, ok := s.partition(topic, p).finish(offset - 1); ok {
		s.ConsumerGroupSession.MarkOffset(topic, p, next, metadata)
	}
}

func (s *inOrderSession) MarkMessage(m *sarama.ConsumerMessage, metadata string) {
	s.MarkOffset(m.Topic, m.Partition, m.Offset+1, metadata)
}

// delivered is one partition's messages handed to goka and not yet
// committable, in delivery (offset) order.
type delivered struct {
	mu      sync.Mutex
	offsets []int64
	done    []bool
	// withheld: no offset from withheldFrom on finishes (Withhold).
	withheld     bool
	withheldFrom int64
}

func (d *delivered) withhold(off int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.withheld || off < d.withheldFrom {
		d.withheld, d.withheldFrom = true, off
	}
}

func (d *delivered) deliver(off int64) {
	d.mu.Lock()
	d.offsets = append(d.offsets, off)
	d.done = append(d.done, false)
	d.mu.Unlock()
}

// finish records off as finished; it returns the offset to commit (the one
// after the contiguous finished run) when the run grew.
func (d *delivered) finish(off int64) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.withheld && off >= d.withheldFrom {
		return 0, false
	}
	i := sort.Search(len(d.offsets), func(i int) bool { return d.offsets[i] >= off })
	if i == len(d.offsets) || d.offsets[i] != off {
		// Not delivered through this session (nothing to hold back for).
		return off + 1, len(d.offsets) == 0
	}
	d.done[i] = true
	n := 0
	for n < len(d.done) && d.done[n] {
		n++
	}
	if n == 0 {
		return 0, false
	}
	next := d.offsets[n-1] + 1
	d.offsets = d.offsets[n:]
	d.done = d.done[n:]
	return next, true
}
