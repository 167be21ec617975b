package exactly

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// pacer merges the ssh-log partitions that one instance processes in event
// time: an input handler routes a failure with a user only when every other
// active partition has got at least as far, ties broken by partition number
// (a strict merge by (event time, partition)). Other events need no order
// across partitions (an IP's events are on one partition): they pass,
// moving their partition on.
//
// A user's failures (distributed_attack) reach the user's state from every
// partition, in the order the input handlers route them. Left alone, the
// partitions of a replay or a catch-up drift hours apart in event time (a
// millisecond of processing is a minute of a replayed log), and the user
// states missed the biggest distributed attacks of the replica (root,
// admin). Each partition records the time of the event it wants to route
// before it waits, so the partition first in (time, partition) order never
// waits and the waits form no cycle; routing happens under the pacer's
// lock, so the loopback receives the events in that order.
//
// A partition is active while it has input left: its next offset is below
// the partition's end (the last stable offset, polled by followEnds, less
// the transaction markers at its end). One that has
// consumed everything holds nobody back. An earlier version called a
// partition idle after a second without input, and under load a partition
// busy with its loopback backlog for a second let the others run ahead: runs
// missed root and admin again. A partition whose position is not known yet
// (assigned, no event, no end polled) holds the others back; no event waits
// longer than maxPaceWait (counted: a line with a bogus future time must not
// stall its partition for ever). A partition whose event time is within
// liveLag of the wall clock is following live logs, not catching up: it
// holds nobody back either, so live alerts never wait (live partitions are
// in step by the clock already).
type pacer struct {
	mu       sync.Mutex
	changed  *sync.Cond
	progress map[int32]int64 // time of the latest event routed or waiting, per partition (-1: none yet)
	next     map[int32]int64 // next offset to consume per partition (-1: unknown)
	end      map[int32]int64 // end of the visible input per partition (-1: unknown)
	now      func() time.Time
	limit    time.Duration // longest wait (maxPaceWait)
	escaped  func()        // called when a wait ends at its limit
	// held and heldOff are the partition and offset of the event between
	// hold and release.
	held    int32
	heldOff int64
}

const (
	maxPaceWait = 10 * time.Second
	liveLag     = 30 // seconds
)

func newPacer() *pacer {
	p := &pacer{progress: map[int32]int64{}, next: map[int32]int64{}, end: map[int32]int64{},
		now: time.Now, limit: maxPaceWait, escaped: func() {}}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// assign starts over with the partitions this instance now processes: each
// holds the others back until it routes its first event or is known to be
// at its end.
func (p *pacer) assign(parts []int32) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.progress, p.next, p.end = map[int32]int64{}, map[int32]int64{}, map[int32]int64{}
	for _, q := range parts {
		p.progress[q], p.next[q], p.end[q] = -1, -1, -1
	}
	p.changed.Broadcast()
}

// partitions are the partitions assigned now.
func (p *pacer) partitions() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := make([]int32, 0, len(p.progress))
	for q := range p.progress {
		parts = append(parts, q)
	}
	return parts
}

// setEnd records partition q's high-water mark, and its start offset when
// no event of it was seen yet (start < 0: unknown).
func (p *pacer) setEnd(q int32, end, start int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.progress[q]; !ok {
		return
	}
	p.end[q] = end
	if p.progress[q] < 0 && start >= 0 {
		p.next[q] = start
	}
	p.changed.Broadcast()
}

// hold blocks until partition part may route its event at offset off of
// time t (unix seconds), and returns true with the pacer locked: the caller
// routes the event, then calls release, so the loopback receives the
// events in that order. It returns false, unlocked, when ctx ended while
// the event waited (the partition was revoked or the stage stops): the
// event must not be routed then, since the partitions it waited for are no
// longer processed here and it would reach the user states out of order;
// the caller leaves it to the partition's next owner. A nil pacer never
// waits.
func (p *pacer) hold(ctx context.Context, part int32, off, t int64) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	// The held event is not consumed until it is routed (release): a
	// partition holding its last event is not done yet.
	p.next[part] = off
	if t > p.progress[part] {
		p.progress[part] = t
		p.changed.Broadcast()
	}
	p.wait(ctx, part, t)
	if ctx.Err() != nil {
		p.mu.Unlock()
		return false
	}
	// Set once the lock is ours for good: other partitions hold and
	// release while this one waits.
	p.held, p.heldOff = part, off
	return true
}

// wait waits (with the lock, which Wait gives up meanwhile) until no other
// active partition comes before partition part's event of time t, the wait
// reaches its limit, or ctx ends.
func (p *pacer) wait(ctx context.Context, part int32, t int64) {
	deadline := p.now().Add(p.limit)
	for ctx.Err() == nil && p.behind(part, t) {
		if !p.now().Before(deadline) {
			p.escaped()
			return
		}
		p.changed.Wait()
	}
}

// pass records that partition part routes its event at offset off of time
// t without the merge (an event no user state sees): the partition moves
// on, which may let others go.
func (p *pacer) pass(part int32, off, t int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.next[part] = off + 1
	if t > p.progress[part] || p.done(part) {
		p.progress[part] = max(p.progress[part], t)
		p.changed.Broadcast()
	}
	p.mu.Unlock()
}

// release ends the routing that hold allowed: the event is consumed.
func (p *pacer) release() {
	if p == nil {
		return
	}
	p.next[p.held] = p.heldOff + 1
	if p.done(p.held) {
		p.changed.Broadcast()
	}
	p.mu.Unlock()
}

// behind reports whether another active partition comes before partition
// part's event of time t in (time, partition) order.
func (p *pacer) behind(part int32, t int64) bool {
	live := p.now().Unix() - liveLag
	for q, tq := range p.progress {
		if q == part || tq >= live || p.done(q) {
			continue
		}
		if tq < t || (tq == t && q < part) {
			return true
		}
	}
	return false
}

// done reports whether partition q has consumed all its input.
func (p *pacer) done(q int32) bool {
	return p.end[q] >= 0 && p.next[q] >= 0 && p.next[q] >= p.end[q]
}

// wake wakes the waiters every interval (so a wait can end at its
// deadline), until ctx ends.
func (p *pacer) wake(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.changed.Broadcast()
			return
		case <-tick.C:
			p.changed.Broadcast()
		}
	}
}

// followEnds polls, every interval until ctx ends, the end offset of each
// input partition the pacer holds and, for one without an event yet, the
// offset the group resumes at (its committed offset, else the oldest).
func (p *pacer) followEnds(ctx context.Context, brokers []string, group, topic string, interval time.Duration) error {
	client, err := sarama.NewClient(brokers, kafkaconfig.Sarama("logmon-pace"))
	if err != nil {
		return fmt.Errorf("follow ends of %s: %w", topic, err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return fmt.Errorf("follow ends of %s: %w", topic, err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	ve := visibleEnds{}
	for {
		parts := p.partitions()
		var committed *sarama.OffsetFetchResponse
		var ends map[int32]int64
		if len(parts) > 0 {
			committed, _ = admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
			ends, _ = topics.Ends(client, topic, parts)
		}
		for _, q := range parts {
			end, ok := ends[q]
			if !ok {
				continue
			}
			start := int64(-1)
			if committed != nil {
				if b := committed.GetBlock(topic, q); b != nil && b.Err == sarama.ErrNoError {
					start = b.Offset
				}
			}
			if start < 0 {
				if oldest, err := client.GetOffset(topic, q, sarama.OffsetOldest); err == nil {
					start = oldest
				}
			}
			p.setEnd(q, ve.of(p, client, topic, q, start, end), start)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// visibleEnds computes, per partition, end (a last stable offset) or the
// partition's position when only records no consumer receives lie between
// them: ssh-log is written in transactions, and the commit marker after a
// partition's last record is never consumed, so next would otherwise stay
// one short of the end for ever. It asks the broker (topics.Pending) only
// for a partition whose position did not move since the last poll, once
// per position and end.
type visibleEnds map[int32]*visibleEnd

type visibleEnd struct {
	from, end, visible int64 // the last question and its answer
	lastFrom           int64 // the position at the last poll
}

func (ve visibleEnds) of(p *pacer, client sarama.Client, topic string, q int32, start, end int64) int64 {
	p.mu.Lock()
	from := p.next[q]
	p.mu.Unlock()
	if from < 0 {
		from = start
	}
	v := ve[q]
	if v == nil {
		v = &visibleEnd{from: -1, lastFrom: -1}
		ve[q] = v
	}
	moving := from != v.lastFrom
	v.lastFrom = from
	switch {
	case from < 0 || from >= end || moving:
		return end
	case v.from == from && v.end == end:
		return v.visible
	}
	pending, err := topics.Pending(client, topic, q, from, end)
	if err != nil {
		return end
	}
	v.from, v.end, v.visible = from, end, end
	if !pending {
		v.visible = from
	}
	return v.visible
}

// skip records that partition part consumed offset off without routing an
// event (a record that is not an event).
func (p *pacer) skip(part int32, off int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.next[part] = off + 1
	p.changed.Broadcast()
	p.mu.Unlock()
}
