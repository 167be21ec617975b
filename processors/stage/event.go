package stage

import (
	"fmt"

	"github.com/log-monitor/log_monitor/processors/detect"
)

// Event is one ssh-log event as the group passes it on through its
// loopback: only what state and rules need, compactly encoded.
type Event struct {
	// Src and Offset are the event's position in ssh-log: its identity for
	// replays (a re-processed input carries the same pair).
	Src                                      int32
	Offset                                   int64
	Time                                     int64  // event time, unix seconds
	Day                                      string // metric_date in the report time zone, YYYY-MM-DD
	Hour                                     uint8  // hour of the day in the report time zone
	Error                                    bool   // log_level ERROR
	Failed                                   int32  // failed attempts the line counts for
	Type, ErrorType, User, IP, Host, RowHash string
}

// KindEvent is the first byte of an encoded Event (the IP stage's
// loopback carries other kinds too).
const KindEvent byte = 1

// EventCodec encodes the loopback's *Event (the user stage's loopback
// carries nothing else; the IP stage's LoopCodec uses it for events).
type EventCodec struct{}

// Encode implements goka.Codec.
func (EventCodec) Encode(v interface{}) ([]byte, error) {
	m, ok := v.(*Event)
	if !ok {
		return nil, fmt.Errorf("loop codec: cannot encode %T", v)
	}
	return m.AppendTo(make([]byte, 0, 96+len(m.User)+len(m.IP)+len(m.Host)+len(m.Type))), nil
}

// Decode implements goka.Codec.
func (EventCodec) Decode(b []byte) (interface{}, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("loop codec: empty message")
	}
	if b[0] != KindEvent {
		return nil, fmt.Errorf("loop codec: unknown kind %d", b[0])
	}
	r := &Reader{B: b[1:]}
	e := &Event{}
	e.Read(r)
	if r.Err != nil {
		return nil, fmt.Errorf("loop codec: event: %w", r.Err)
	}
	return e, nil
}

// AppendTo appends e's loopback encoding (KindEvent first) to b.
func (e *Event) AppendTo(b []byte) []byte {
	w := Writer{B: append(b, KindEvent)}
	w.Varint(int64(e.Src))
	w.Varint(e.Offset)
	w.Varint(e.Time)
	w.Str(e.Day)
	w.Byte(e.Hour)
	w.Bool(e.Error)
	w.Varint(int64(e.Failed))
	w.Str(e.Type)
	w.Str(e.ErrorType)
	w.Str(e.User)
	w.Str(e.IP)
	w.Str(e.Host)
	w.Str(e.RowHash)
	return w.B
}

// Read reads an event encoded by AppendTo, after its kind byte.
func (e *Event) Read(r *Reader) {
	e.Src = int32(r.Varint())
	e.Offset = r.Varint()
	e.Time = r.Varint()
	e.Day = r.Str()
	e.Hour = r.Byte()
	e.Error = r.Bool()
	e.Failed = int32(r.Varint())
	e.Type = r.Str()
	e.ErrorType = r.Str()
	e.User = r.Str()
	e.IP = r.Str()
	e.Host = r.Str()
	e.RowHash = r.Str()
}

// DetectEvent is the event as the rule engine takes it.
func (e *Event) DetectEvent() detect.Event {
	return detect.Event{Time: e.Time, Offset: e.Offset, Type: e.Type, ErrorType: e.ErrorType,
		User: e.User, IP: e.IP, Host: e.Host, RowHash: e.RowHash, Failed: int(e.Failed)}
}
