package tracker

import (
	"context"
	"sync"
	"time"
)

// pacer merges the ssh-log partitions that one instance processes in event
// time: an input handler routes its event only when no other active
// partition is more than slack behind it (slack 0: a strict merge).
//
// A user's failures (distributed_attack) reach the user's state from every
// partition, in the order the input handlers route them. Left alone, the
// partitions of a replay or a catch-up drift hours apart in event time (a
// millisecond of processing is a minute of a replayed log), and the user
// states missed the biggest distributed attacks of the replica (root,
// admin). Each partition records the time of the event it wants to route
// before it waits, so the partition with the earliest one never waits and
// the waits form no cycle; routing happens under the pacer's lock, so the
// loopback receives the events in that order. A partition that has had no
// input for idleAfter holds nobody back (caught up, or its input is late),
// and no event waits longer than maxPaceWait (a line with a bogus future
// time must not stall its partition). A partition whose event time is
// within liveLag of the wall clock is following live logs, not catching
// up: it holds nobody back either, so live alerts never wait (live
// partitions are in step by the clock already).
type pacer struct {
	slack     int64 // seconds a partition may run ahead (0: a strict merge)
	idleAfter time.Duration

	mu       sync.Mutex
	changed  *sync.Cond
	progress map[int32]int64     // time of the latest event routed or waiting, per partition
	seen     map[int32]time.Time // wall clock of the latest input, per partition
	now      func() time.Time
}

const (
	maxPaceWait = time.Second
	liveLag     = 30 // seconds
)

func newPacer(slack, idleAfter time.Duration) *pacer {
	p := &pacer{slack: int64(slack / time.Second), idleAfter: idleAfter,
		progress: map[int32]int64{}, seen: map[int32]time.Time{}, now: time.Now}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// assign starts over with the partitions this instance now processes: each
// holds the others back until it routes its first event or goes idle.
func (p *pacer) assign(parts []int32) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.progress, p.seen = map[int32]int64{}, map[int32]time.Time{}
	for _, q := range parts {
		p.progress[q], p.seen[q] = -1, p.now()
	}
	p.changed.Broadcast()
}

// run wakes the waiters regularly, so that a partition going idle releases
// them, until ctx ends.
func (p *pacer) run(ctx context.Context) {
	if p == nil {
		return
	}
	tick := time.NewTicker(p.idleAfter / 4)
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

// hold blocks until partition part may route its event of time t (unix
// seconds), i.e. no other active partition has an earlier one, and returns
// with the pacer locked: the caller routes the event, then calls release,
// so the loopback receives the events in that order. A nil pacer never
// waits.
func (p *pacer) hold(ctx context.Context, part int32, t int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	now := p.now()
	p.seen[part] = now
	if t > p.progress[part] {
		p.progress[part] = t
		p.changed.Broadcast()
	}
	for start := now; ctx.Err() == nil && now.Sub(start) < maxPaceWait; {
		slowest, ok := p.slowestOther(part, now)
		if !ok || t <= slowest+p.slack {
			return
		}
		p.changed.Wait()
		now = p.now()
		p.seen[part] = now // waiting is not idling
	}
}

// release ends the routing that hold allowed.
func (p *pacer) release() {
	if p != nil {
		p.mu.Unlock()
	}
}

// slowestOther is the least progress among the other active partitions.
func (p *pacer) slowestOther(part int32, now time.Time) (int64, bool) {
	live := now.Unix() - liveLag
	var slowest int64
	found := false
	for q, t := range p.progress {
		if q == part || now.Sub(p.seen[q]) > p.idleAfter || t >= live {
			continue
		}
		if !found || t < slowest {
			slowest, found = t, true
		}
	}
	return slowest, found
}
