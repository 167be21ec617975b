// Package exactly is the machinery that makes log_monitor's goka groups
// exact on top of goka's at-least-once processing (docs/processors.md):
//
//   - in-order commits (inorder.go): a mark moves the committed offset only
//     over a contiguous run of finished messages, so a crash never skips a
//     message whose outputs were lost;
//   - the commit follower (commits.go): the group's committed loopback
//     offsets, below which kept alerts can never need re-emission;
//   - the write-behind table store (store.go): goka's LevelDB storage with
//     its writes applied in atomic batches;
//   - for a group that must see its input partitions in one process:
//     SoleMember (solemember.go), which gives them all to one instance, the
//     event-time merge of those partitions (pace.go), and the Withholder,
//     which keeps an event the merge gave up on from being committed.
//
// A group gets all of it from one Group; its callbacks see it through
// Guard.
package exactly

import (
	"context"

	"github.com/IBM/sarama"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
)

// Guard is the machinery as a goka group's callbacks use it.
type Guard interface {
	// Committed is the group's committed offset of loopback partition p,
	// or -1 when unknown: kept alerts raised below it can be forgotten.
	Committed(p int32) int64
	// Hold blocks until the event at offset of input partition may be
	// routed in event time t (unix seconds) and returns true; the caller
	// routes it, then calls Release. It returns false when ctx ended while
	// the event waited: the caller neither routes the event nor lets it be
	// committed (Withhold).
	Hold(ctx context.Context, partition int32, offset, t int64) bool
	// Release ends the routing that Hold allowed.
	Release()
	// Pass moves a partition on past an event routed without the merge.
	Pass(partition int32, offset, t int64)
	// Skip moves a partition on past a record that is not an event.
	Skip(partition int32, offset int64)
	// Withhold keeps the message at offset of topic's partition, and every
	// later one of that partition, from being committed in this session.
	Withhold(topic string, partition int32, offset int64)
	// Change runs change on the group's windowed state of ctx's partition
	// and holds ctx's commit until that state is written (Window).
	Change(ctx goka.Context, change func())
	// Windowed reports whether Change holds commits for a window that
	// writes the state (false in goka's tester: the group writes its table
	// with SetValue itself).
	Windowed() bool
}

// Windowed is a group's state kept in a Window (WindowConfig's Collect,
// Restore and Written).
type Windowed interface {
	Collect(p int32) []Record
	Restore(p int32, recs []Record) error
	Written(p int32, recs []Record)
}

// Config says which machinery a group gets.
type Config struct {
	Kafka config.Kafka
	// Name names the group in logs ("IP stage").
	Name string
	// Group is the goka group and Loop its loopback topic, whose committed
	// offsets are followed.
	Group, Loop string
	// StorageDir holds the group's LevelDB table partitions.
	StorageDir string
	// Merged: the group's partitions all go to one instance at a time
	// (SoleMember) and its callbacks may give up on a message (Withhold).
	Merged bool
	// Pace (with Merged) merges the partitions of Input in event time
	// (pace.go); Escaped is called when a wait ends at its limit.
	Pace    bool
	Input   string
	Escaped func()
	// Present, if set, rewrites each Input message before goka sees it, in
	// the goroutine that reads the partition: the IP stage presents an
	// ssh-log record under its IP as key (ssh-log is partitioned by IP, so
	// the record already sits on the IP's table partition) and decoded, which
	// spares a loopback record per event and moves the JSON decoding off the
	// partition's processing goroutine.
	Present func(*sarama.ConsumerMessage)
	// Window is the topic of the group's windowed state, if it has one
	// (Keep names the state); Table, if set, is the group's table, whose
	// records the window writes too (WindowConfig.Table).
	Window, Table string
}

// PaceLimit is the longest an event waits in the event-time merge.
const PaceLimit = maxPaceWait

// Group is the machinery of one goka group. Before Start, and as a nil
// *Group, it does nothing: nothing is known committed and the merge does
// not wait (goka's tester runs the callbacks so).
type Group struct {
	cfg        Config
	commits    *commits
	withholder *Withholder
	pace       *pacer
	state      Windowed
	window     *Window
	stores     *Stores
	// stopWindow ends the window's writer, which outlives the processor
	// (Close).
	stopWindow func()
	windowDone chan struct{}
}

// New returns the machinery of the group cfg describes.
func New(cfg Config) *Group {
	g := &Group{cfg: cfg, withholder: new(Withholder), stores: NewStores(cfg.StorageDir)}
	if cfg.Present != nil {
		g.withholder.present = &presenter{topic: cfg.Input, f: cfg.Present}
	}
	return g
}

// Stores are the table stores the group's processor opened (a walk over
// the partitions this instance owns: Stores.Each).
func (g *Group) Stores() *Stores { return g.stores }

// Keep names the group's windowed state (Config.Window).
func (g *Group) Keep(state Windowed) { g.state = state }

// ProcessorOptions are the goka options of the group's processor: the
// project's client configuration, in-order commits (SoleMember's rebalance
// for a merged group) and the write-behind table store.
func (g *Group) ProcessorOptions() []goka.ProcessorOption {
	opts := withholderProcessorOptions(g.cfg.Kafka, g.withholder)
	if g.cfg.Merged {
		opts = SoleMemberProcessorOptions(g.cfg.Kafka, g.withholder)
	}
	return append(opts, goka.WithStorageBuilder(g.stores.Builder()))
}

// Start readies the machinery for the group's processor (call it before
// the processor runs) and follows Kafka for it until ctx ends: the
// committed loopback offsets and, for the merge, the input's end offsets.
// wg is done when its loops are; warn is told why a loop gave up.
func (g *Group) Start(ctx context.Context, wg *sync.WaitGroup, warn func(msg string, err error)) {
	if g.cfg.Merged && g.cfg.Pace {
		g.pace = newPacer()
		if g.cfg.Escaped != nil {
			g.pace.escaped = g.cfg.Escaped
		}
	}
	g.commits = newCommits(g.cfg.Kafka.PartitionCount())
	if g.cfg.Window != "" && g.state != nil {
		g.window = NewWindow(WindowConfig{Kafka: g.cfg.Kafka, Topic: g.cfg.Window, Collect: g.state.Collect, Restore: g.state.Restore,
			Table: g.cfg.Table, Stores: g.stores, Written: g.state.Written})
		// The writer outlives ctx until Close: the processor's shutdown
		// waits for the inputs it holds.
		wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		g.stopWindow, g.windowDone = stop, make(chan struct{})
		go func() {
			defer close(g.windowDone)
			if err := g.window.Run(wctx); err != nil {
				warn(g.cfg.Name+"'s window not written", err)
			}
		}()
	}
	loop := func(msg string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				warn(msg, err)
			}
		}()
	}
	brokers := g.cfg.Kafka.Brokers
	loop(g.cfg.Name+"'s committed offsets not followed: kept alerts pruned by offset distance only", func() error {
		return g.commits.follow(ctx, brokers, g.cfg.Group, g.cfg.Loop, 500*time.Millisecond)
	})
	if g.pace == nil {
		return
	}
	loop("", func() error { g.pace.wake(ctx, time.Second); return nil })
	loop("input ends not followed: the event-time merge waits its limit for partitions without input", func() error {
		return g.pace.followEnds(ctx, brokers, g.cfg.Group, g.cfg.Input, 100*time.Millisecond)
	})
}

// Close stops the window's writer after a last write; call it once the
// group's processor has stopped.
func (g *Group) Close() {
	if g != nil && g.stopWindow != nil {
		g.stopWindow()
		<-g.windowDone
	}
}

// Assign tells the merge and the window the input partitions of a
// rebalance.
func (g *Group) Assign(parts []int32) {
	if g == nil {
		return
	}
	g.pace.assign(parts)
	if g.window != nil {
		g.window.Assign(parts)
	}
}

// Windowed implements Guard.
func (g *Group) Windowed() bool { return g != nil && g.window != nil }

// Change implements Guard. Without a running window (goka's tester) it
// just runs change.
func (g *Group) Change(ctx goka.Context, change func()) {
	if g == nil || g.window == nil {
		change()
		return
	}
	release := ctx.DeferCommit()
	if err := g.window.Update(ctx.Context(), ctx.Partition(), change, release); err != nil {
		release(err)
		ctx.Fail(err)
	}
}

// Committed implements Guard.
func (g *Group) Committed(p int32) int64 {
	if g == nil {
		return -1
	}
	return g.commits.committed(p)
}

// Hold implements Guard.
func (g *Group) Hold(ctx context.Context, partition int32, offset, t int64) bool {
	if g == nil {
		return true
	}
	return g.pace.hold(ctx, partition, offset, t)
}

// Release implements Guard.
func (g *Group) Release() {
	if g != nil {
		g.pace.release()
	}
}

// Pass implements Guard.
func (g *Group) Pass(partition int32, offset, t int64) {
	if g != nil {
		g.pace.pass(partition, offset, t)
	}
}

// Skip implements Guard.
func (g *Group) Skip(partition int32, offset int64) {
	if g != nil {
		g.pace.skip(partition, offset)
	}
}

// Withhold implements Guard.
func (g *Group) Withhold(topic string, partition int32, offset int64) {
	if g != nil && g.cfg.Merged {
		g.withholder.Withhold(topic, partition, offset)
	}
}
