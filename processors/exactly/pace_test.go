package exactly

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Three partitions racing through a day of event time at different speeds
// are routed as one stream in (time, partition) order; none is stuck, and
// no wait ends at the limit.
func TestPacerMergesPartitionsInTimeOrder(t *testing.T) {
	p := newPacer()
	var escapes atomic.Int64
	p.escaped = func() { escapes.Add(1) }
	p.assign([]int32{0, 1, 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go p.wake(ctx, 100*time.Millisecond)
	type routed struct{ t, part int64 }
	var mu sync.Mutex
	var order []routed
	var wg sync.WaitGroup
	for part := range int32(3) {
		step := int64(7 + 5*part) // seconds of event time per event: different speeds
		n := 86400 / step
		p.setEnd(part, n, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range n {
				tm := 1 + off*step
				p.hold(ctx, part, off, tm)
				mu.Lock()
				order = append(order, routed{tm, int64(part)})
				mu.Unlock()
				p.release()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("partitions did not finish: a wait cycle")
	}
	back := 0
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if b.t < a.t || (b.t == a.t && b.part < a.part) {
			t.Logf("at %d: %+v after %+v", i, b, a)
			back++
		}
	}
	if back > 0 || escapes.Load() > 0 {
		t.Errorf("%d of %d events routed before an earlier one, %d waits ended at the limit", back, len(order), escapes.Load())
	}
}

// A partition with input left holds the others back however long it is
// busy elsewhere (an earlier version let go after a second); one that has
// consumed its input, or whose position says it has none, holds nobody.
func TestPacerWaitsForPartitionWithInputLeft(t *testing.T) {
	p := newPacer()
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go p.wake(ctx, 50*time.Millisecond)
	p.setEnd(0, 1, 0) // one event, waiting below
	p.setEnd(1, 10, 0)
	released := make(chan time.Time, 1)
	go func() {
		route(p, ctx, 0, 0, 100000)
		released <- time.Now()
	}()
	route(p, ctx, 1, 0, 100) // partition 1 routes one event of ten, then is busy
	busy := 1500 * time.Millisecond
	time.Sleep(busy)
	select {
	case <-released:
		t.Fatal("partition 0 went ahead of partition 1, which has input left")
	default:
	}
	route(p, ctx, 1, 1, 100001) // partition 1 moves past partition 0's event
	select {
	case <-released:
	case <-time.After(time.Second):
		t.Fatal("partition 0 still waits after partition 1 moved past it")
	}

	// Consumed everything: partition 1 holds nobody back.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.assign([]int32{0, 1})
	p.setEnd(0, 0, 0) // nothing before its event
	p.setEnd(1, 5, 0)
	route(p, ctx, 1, 4, 100) // its last offset
	start := time.Now()
	route(p, ctx, 0, 0, 100000)
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("waited %v for a partition at its end", d)
	}

	// Not seen yet: held back until its position says it has no input.
	p.assign([]int32{0, 1})
	go func() {
		time.Sleep(300 * time.Millisecond)
		p.setEnd(1, 7, 7) // resumes at 7 of 7: nothing to consume
	}()
	start = time.Now()
	route(p, ctx, 0, 0, 100000)
	if d := time.Since(start); d < 250*time.Millisecond || d > time.Second {
		t.Errorf("waited %v for a partition not seen yet, want until its end was known (300 ms)", d)
	}
}

// Events of the same second go in partition order.
func TestPacerBreaksTiesByPartition(t *testing.T) {
	p := newPacer()
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go p.wake(ctx, 50*time.Millisecond)
	p.setEnd(0, 10, 0)
	p.setEnd(1, 1, 0) // one event
	done := make(chan struct{})
	go func() { route(p, ctx, 1, 0, 60); close(done) }()
	route(p, ctx, 0, 0, 50)
	select {
	case <-done:
		t.Fatal("partition 1 routed 60 while partition 0 may still have a 60 (tie: partition 0 first)")
	case <-time.After(300 * time.Millisecond):
	}
	route(p, ctx, 0, 1, 60)
	select {
	case <-done:
		t.Fatal("partition 1 routed 60 before partition 0 showed an event after it")
	case <-time.After(300 * time.Millisecond):
	}
	route(p, ctx, 0, 2, 61)
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("partition 1 still waits after partition 0 passed 60")
	}
}

// No wait outlasts the limit, and each one that does is counted.
func TestPacerWaitLimit(t *testing.T) {
	p := newPacer()
	p.limit = 300 * time.Millisecond
	var escapes atomic.Int64
	p.escaped = func() { escapes.Add(1) }
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go p.wake(ctx, 50*time.Millisecond)
	start := time.Now()
	route(p, ctx, 0, 0, 4102444800) // a bogus time in 2100; partition 1 never shows up
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second || escapes.Load() != 1 {
		t.Errorf("waited %v, %d escapes; want the limit (300 ms) and one", d, escapes.Load())
	}
}

// Partitions following live logs (event time near the wall clock) never
// wait for each other: live alerts keep their latency.
func TestPacerLiveDoesNotWait(t *testing.T) {
	p := newPacer()
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go p.wake(ctx, 50*time.Millisecond)
	p.setEnd(0, 0, 0) // partition 0 holds nobody back before its event
	p.setEnd(1, 10, 0)
	now := time.Now().Unix()
	route(p, ctx, 1, 0, now-5) // partition 1 active, a little behind
	start := time.Now()
	route(p, ctx, 0, 0, now)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a live event waited %v", d)
	}
	// The same distance in a replay (a month ago) is a wait.
	p.assign([]int32{0, 1})
	p.setEnd(0, 0, 0)
	p.setEnd(1, 10, 0)
	p.limit = 700 * time.Millisecond
	route(p, ctx, 1, 0, now-30*86400)
	start = time.Now()
	route(p, ctx, 0, 0, now-30*86400+5)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("a replayed event ahead of an active partition waited only %v", d)
	}
}

// route lets partition part route its event at offset off of time t
// (routing nothing).
func route(p *pacer, ctx context.Context, part int32, off, t int64) {
	p.hold(ctx, part, off, t)
	p.release()
}

// An event that passes (no user state sees it) moves its partition on and
// lets a waiting partition go.
func TestPacerPassMovesPartitionOn(t *testing.T) {
	p := newPacer()
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go p.wake(ctx, 50*time.Millisecond)
	p.setEnd(0, 10, 0)
	p.setEnd(1, 10, 0)
	released := make(chan struct{})
	go func() { route(p, ctx, 0, 0, 150); close(released) }()
	p.pass(1, 0, 100)
	select {
	case <-released:
		t.Fatal("partition 0 routed 150 while partition 1 was at 100")
	case <-time.After(300 * time.Millisecond):
	}
	p.pass(1, 1, 200)
	select {
	case <-released:
	case <-time.After(time.Second):
		t.Fatal("partition 0 still waits after partition 1 passed an event at 200")
	}
}

// An event waiting for another partition when its partition is revoked
// (ctx ends) is not routed: hold reports false and leaves the pacer
// unlocked.
func TestPacerRevokedWhileWaiting(t *testing.T) {
	p := newPacer()
	p.assign([]int32{0, 1})
	p.setEnd(0, 100, 0)
	p.setEnd(1, 100, 0)
	p.pass(1, 0, 10) // partition 1 is at time 10, with input left
	ctx, revoke := context.WithCancel(context.Background())
	got := make(chan bool, 1)
	go func() { got <- p.hold(ctx, 0, 0, 50) }() // waits for partition 1
	select {
	case ok := <-got:
		t.Fatalf("hold returned %v before partition 1 got to time 50", ok)
	case <-time.After(200 * time.Millisecond):
	}
	revoke()
	p.changed.Broadcast() // as wake does when its ctx ends
	select {
	case ok := <-got:
		if ok {
			t.Fatal("hold let the event be routed after its partition was revoked")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hold did not return after the revocation")
	}
	// Not left locked.
	done := make(chan struct{})
	go func() {
		p.pass(1, 1, 11)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pacer stayed locked after a revoked hold")
	}
}
