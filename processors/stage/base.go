// Package stage holds what both of log_monitor's goka groups, the IP stage
// (processors/ipstage) and the user stage (processors/userstage), are built
// from: the compact event their loopbacks carry and its codec, the binary
// writer and reader of their values, kept alerts and their re-emission
// after a replay, the alert codec, the decoding of ssh-log records and the
// groups' metrics.
package stage

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// Base is what the callbacks of both stages share.
type Base struct {
	// Alerts is the alerts topic.
	Alerts string
	Rules  detect.Rules
	// ReportLoc is the zone whose calendar days make metric_date.
	ReportLoc *time.Location
	Log       *slog.Logger
	M         *Metrics
}

// Decode reads an ssh-log record; one that is not an event of ours is
// logged and skipped, never fatal.
func (b *Base) Decode(ctx goka.Context, msg interface{}) (*Event, bool) {
	e, err := b.DecodeRecord(msg.([]byte), ctx.Partition(), ctx.Offset())
	if err != nil {
		b.Log.Warn("undecodable ssh-log record skipped", "group", ctx.Group(), "partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		return nil, false
	}
	return e, true
}

// DecodeRecord reads the ssh-log record at offset off of partition src.
func (b *Base) DecodeRecord(value []byte, src int32, off int64) (*Event, error) {
	var ev contracts.Event
	if err := ev.UnmarshalJSON(value); err != nil {
		return nil, err
	}
	return b.compact(&ev, src, off), nil
}

// compact keeps what the stages need of an event.
func (b *Base) compact(ev *contracts.Event, src int32, off int64) *Event {
	local := ev.EventTime.In(b.ReportLoc)
	return &Event{
		Src: src, Offset: off, Time: ev.EventTime.Unix(),
		Day: local.Format("2006-01-02"), Hour: uint8(local.Hour()),
		Error: ev.LogLevel == contracts.LevelError, Failed: int32(ev.FailedAttempts()),
		Type: ev.EventType, ErrorType: ev.ErrorType, User: ev.User, IP: ev.IP, Host: ev.HostName, RowHash: ev.RowHash,
	}
}

// GokaLogger routes goka's logging into slog at debug level.
type GokaLogger struct{ Log *slog.Logger }

// Print implements goka's logger.
func (g GokaLogger) Print(v ...interface{}) { g.Log.Debug(fmt.Sprint(v...), "component", "goka") }

// Println implements goka's logger.
func (g GokaLogger) Println(v ...interface{}) { g.Log.Debug(fmt.Sprint(v...), "component", "goka") }

// Printf implements goka's logger.
func (g GokaLogger) Printf(format string, v ...interface{}) {
	g.Log.Debug(fmt.Sprintf(format, v...), "component", "goka")
}
