// Package userstage is log_monitor's user stage, a goka group of its own
// (the IP stage's name + "-users") that reads ssh-log too and keeps, per
// user name (key "u|"+user), the distributed_attack rule: one account
// failing from many IPs.
//
// A user's failures come from every ssh-log partition (ssh-log is
// partitioned by IP), and the rule needs them in event time. So the stage's
// partitions all go to one instance at a time (exactly.SoleMember; the
// other instances stand by and take over when it leaves), whose input
// handlers merge the partitions in event time (exactly's pacing) before
// routing. When the stage shared the IP stage's group, two instances each
// merged only their own partitions and a replay shared by two instances
// found one of the replica's three distributed attacks.
//
//	ssh-log (every partition in one instance at a time)
//	-> input handler: decode; a failure with a user, in event time order
//	     across the partitions: loopback key "u|"+user
//	-> user handler: distributed_attack (detect.UserState); emits alerts
package userstage

import (
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// Group is the user stage's goka group for the IP stage's group ipGroup.
func Group(ipGroup string) string { return ipGroup + "-users" }

// Config is what the group needs.
type Config struct {
	stage.Base
	// Group is the goka group (Group of the IP stage's) and Input the
	// ssh-log topic.
	Group, Input string
}

// Stage is the group's processing logic (the goka callbacks).
type Stage struct {
	stage.Base
	group, input string
	// guard commits in order and merges the input partitions in event
	// time (exactly.Config.Merged).
	guard exactly.Guard
}

// New returns the group's logic; guard is its exactness machinery.
func New(cfg Config, guard exactly.Guard) *Stage {
	return &Stage{Base: cfg.Base, group: cfg.Group, input: cfg.Input, guard: guard}
}

// Graph defines the goka group: ssh-log in, a loopback keyed by user,
// alerts out, and the table of user records.
func (s *Stage) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(s.group),
		goka.Input(goka.Stream(s.input), new(codec.Bytes), s.handleInput),
		goka.Loop(stage.EventCodec{}, s.loop),
		goka.Output(goka.Stream(s.Alerts), stage.AlertCodec{}),
		goka.Persist(TableCodec{}),
	)
}

// Group is the goka group.
func (s *Stage) Group() string { return s.group }

// TableTopic is the group's table topic.
func (s *Stage) TableTopic() string { return string(goka.GroupTable(goka.Group(s.group))) }

// handleInput routes a failure with a user to the user's state, in event
// time order across the partitions; other events only move their partition
// on in the merge.
func (s *Stage) handleInput(ctx goka.Context, msg interface{}) {
	e, ok := s.Decode(ctx, msg)
	if !ok {
		s.guard.Skip(ctx.Partition(), ctx.Offset())
		return
	}
	if !toUser(e) {
		s.guard.Pass(ctx.Partition(), ctx.Offset(), e.Time)
		return
	}
	if !s.guard.Hold(ctx.Context(), ctx.Partition(), ctx.Offset(), e.Time) {
		// Revoked (or stopping) while it waited: neither routed nor
		// committed; the partition's next owner routes it in order.
		s.guard.Withhold(string(ctx.Topic()), ctx.Partition(), ctx.Offset())
		s.M.PaceWithheld.Inc()
		s.Log.Info("user stage: an event waiting for the merge at a revocation is left to the partition's next owner",
			"partition", ctx.Partition(), "offset", ctx.Offset())
		return
	}
	ctx.Loopback(userKeyPrefix+e.User, e)
	s.guard.Release()
}

const userKeyPrefix = "u|"

// toUser reports whether the event goes to its user's state.
func toUser(e *stage.Event) bool { return e.Failed > 0 && e.User != "" }

func (s *Stage) loop(ctx goka.Context, msg interface{}) {
	if e, ok := msg.(*stage.Event); ok {
		s.user(ctx, e)
	}
}

// UserRecord is the table value of one user name (key "u|"+user).
type UserRecord struct {
	Wm     []int64
	Detect detect.UserState
	Recent []stage.Kept
}

// user applies one failure to its user's record; a replay re-emits its alerts.
func (s *Stage) user(ctx goka.Context, e *stage.Event) {
	r, _ := ctx.Value().(*UserRecord)
	if r == nil {
		r = &UserRecord{}
	}
	if int(e.Src) < len(r.Wm) && e.Offset <= r.Wm[e.Src] {
		s.M.Replayed.WithLabelValues("user").Inc()
		s.Reemit(ctx, r.Recent, e)
		ctx.SetValue(r)
		return
	}
	for int(e.Src) >= len(r.Wm) {
		r.Wm = append(r.Wm, -1)
	}
	r.Wm[e.Src] = e.Offset
	r.Recent = stage.Forget(r.Recent, r.Wm, s.guard.Committed(ctx.Partition()))
	r.Detect.Apply(&s.Rules, e.DetectEvent(), func(a contracts.Alert) {
		r.Recent = s.Remember(ctx, r.Recent, e, a)
		s.EmitAlert(ctx, a)
	})
	ctx.SetValue(r)
}
