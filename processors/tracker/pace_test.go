package tracker

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Three partitions racing through a day of event time at different speeds
// are routed as one stream in time order; none is stuck.
func TestPacerMergesPartitionsInTimeOrder(t *testing.T) {
	p := newPacer(0, time.Second)
	p.assign([]int32{0, 1, 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go p.run(ctx)
	var mu sync.Mutex
	var routed []int64
	var wg sync.WaitGroup
	for part := range int32(3) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			step := int64(7 + 5*part) // seconds of event time per event: different speeds
			for tm := int64(1); tm < 86400; tm += step {
				p.hold(ctx, part, tm)
				mu.Lock()
				routed = append(routed, tm)
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
	for i := 1; i < len(routed); i++ {
		if routed[i] < routed[i-1] {
			back++
		}
	}
	if back > 0 {
		t.Errorf("%d of %d events routed before an earlier one", back, len(routed))
	}
}

// A partition gone quiet holds the others back for its idle time only.
func TestPacerIgnoresIdlePartition(t *testing.T) {
	p := newPacer(0, 200*time.Millisecond)
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go p.run(ctx)
	route(p, ctx, 1, 100) // partition 1 routes one event, then nothing
	start := time.Now()
	route(p, ctx, 0, 100000)
	if d := time.Since(start); d < 150*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("waited %v for an idle partition, want about its idle time (200 ms)", d)
	}
}

// Partitions following live logs (event time near the wall clock) never
// wait for each other: live alerts keep their latency.
func TestPacerLiveDoesNotWait(t *testing.T) {
	p := newPacer(0, time.Second)
	p.assign([]int32{0, 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go p.run(ctx)
	now := time.Now().Unix()
	route(p, ctx, 1, now-5) // partition 1 active, a little behind
	start := time.Now()
	route(p, ctx, 0, now)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a live event waited %v", d)
	}
	// The same distance in a replay (a month ago) is a wait.
	p.assign([]int32{0, 1})
	route(p, ctx, 1, now-30*86400)
	start = time.Now()
	route(p, ctx, 0, now-30*86400+5)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("a replayed event ahead of an active partition waited only %v", d)
	}
}

// route lets partition part route an event of time t (routing nothing).
func route(p *pacer, ctx context.Context, part int32, t int64) {
	p.hold(ctx, part, t)
	p.release()
}
