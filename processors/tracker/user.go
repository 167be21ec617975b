package tracker

import (
	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/processors/detect"
)

// UserRecord is the table value of one user name (key "u|"+user): the
// distributed_attack rule, which watches one account across IPs.
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
	r.Recent = forget(r.Recent, r.Wm, t.commits.committed(ctx.Partition()))
	r.Detect.Apply(&t.cfg.Rules, e.detectEvent(), func(a detect.Alert) {
		r.Recent = remember(r.Recent, e, ctx.Offset(), a)
		t.emitAlert(ctx, a)
	})
	ctx.SetValue(r)
}
