package tracker

import (
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// The user stage is a goka group of its own (the IP stage's name +
// "-users") that reads ssh-log too and keeps, per user name (key "u|"+user),
// the distributed_attack rule: one account failing from many IPs.
//
// A user's failures come from every ssh-log partition (ssh-log is
// partitioned by IP), and the rule needs them in event time. So the stage's
// partitions all go to one instance at a time (exactly.SoleMember; the
// other instances stand by and take over when it leaves), whose input
// handlers merge the partitions in event time (pace.go) before routing.
// When the stage shared the IP stage's group, two instances each merged
// only their own partitions and a replay shared by two instances found one
// of the replica's three distributed attacks.

// UsersGroup is the user stage's goka group.
func (t *Tracker) UsersGroup() string { return t.cfg.Group + "-users" }

// UsersTableTopic is the user stage's table topic.
func (t *Tracker) UsersTableTopic() string {
	return string(goka.GroupTable(goka.Group(t.UsersGroup())))
}

// UsersGraph defines the user stage's goka group.
func (t *Tracker) UsersGraph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(t.UsersGroup()),
		goka.Input(goka.Stream(t.cfg.Input), new(codec.Bytes), t.userInput),
		goka.Loop(LoopCodec{}, t.userLoop),
		goka.Output(goka.Stream(t.cfg.Alerts), AlertCodec{}),
		goka.Persist(TableCodec{}),
	)
}

// userInput routes a failure with a user to the user's state, in event
// time order across the partitions; other events only move their partition
// on in the merge.
func (t *Tracker) userInput(ctx goka.Context, msg interface{}) {
	e, ok := t.decode(ctx, msg)
	if !ok {
		t.userx.Skip(ctx.Partition(), ctx.Offset())
		return
	}
	if !e.toUser() {
		t.userx.Pass(ctx.Partition(), ctx.Offset(), e.Time)
		return
	}
	if !t.userx.Hold(ctx.Context(), ctx.Partition(), ctx.Offset(), e.Time) {
		// Revoked (or stopping) while it waited: neither routed nor
		// committed; the partition's next owner routes it in order.
		t.userx.Withhold(string(ctx.Topic()), ctx.Partition(), ctx.Offset())
		t.m.paceWithheld.Inc()
		t.log.Info("user stage: an event waiting for the merge at a revocation is left to the partition's next owner",
			"partition", ctx.Partition(), "offset", ctx.Offset())
		return
	}
	ctx.Loopback(userKeyPrefix+e.User, e)
	t.userx.Release()
}

const userKeyPrefix = "u|"

// toUser reports whether the event goes to its user's state.
func (e *Event) toUser() bool { return e.Failed > 0 && e.User != "" }

func (t *Tracker) userLoop(ctx goka.Context, msg interface{}) {
	if e, ok := msg.(*Event); ok {
		t.user(ctx, e)
	}
}

// UserRecord is the table value of one user name (key "u|"+user).
type UserRecord struct {
	Wm     []int64
	Detect detect.UserState
	Recent []emitted
}

// user applies one failure to its user's record; a replay re-emits its alerts.
func (t *Tracker) user(ctx goka.Context, e *Event) {
	r, _ := ctx.Value().(*UserRecord)
	if r == nil {
		r = &UserRecord{}
	}
	if int(e.Src) < len(r.Wm) && e.Offset <= r.Wm[e.Src] {
		t.m.replayed.WithLabelValues("user").Inc()
		t.reemit(ctx, r.Recent, e)
		ctx.SetValue(r)
		return
	}
	for int(e.Src) >= len(r.Wm) {
		r.Wm = append(r.Wm, -1)
	}
	r.Wm[e.Src] = e.Offset
	r.Recent = forget(r.Recent, r.Wm, t.userx.Committed(ctx.Partition()))
	r.Detect.Apply(&t.cfg.Rules, e.detectEvent(), func(a contracts.Alert) {
		r.Recent = t.remember(ctx, r.Recent, e, a)
		t.emitAlert(ctx, a)
	})
	ctx.SetValue(r)
}
