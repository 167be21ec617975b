package tracker

import (
	"fmt"
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

// DayDelta is one event's contribution to a day's aggregate of one
// partition. Stream A carries events without an IP (sent by the input
// handler); stream B carries events with one (sent by the IP handler, with
// what the IP's state says about the day).
type DayDelta struct {
	Stream    byte // 'A' or 'B'
	Src       int32
	Offset    int64
	Time      int64
	Hour      uint8
	Error     bool
	IP        string
	FirstOfIP bool  // the IP's first event of the day
	CrossedBF bool  // the IP's failed attempts that day reached the brute-force mark with this event
	IPEvents  int64 // the IP's events that day so far
	IPFailed  int64 // the IP's failed attempts that day so far
}

const (
	kindEvent byte = 1
	kindDelta byte = 2
)

// LoopCodec encodes the loopback's messages (*Event, *DayDelta).
type LoopCodec struct{}

// Encode implements goka.Codec.
func (LoopCodec) Encode(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case *Event:
		return m.appendTo(make([]byte, 0, 96+len(m.User)+len(m.IP)+len(m.Host)+len(m.Type))), nil
	case *DayDelta:
		return m.appendTo(make([]byte, 0, 48+len(m.IP))), nil
	}
	return nil, fmt.Errorf("loop codec: cannot encode %T", v)
}

// Decode implements goka.Codec.
func (LoopCodec) Decode(b []byte) (interface{}, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("loop codec: empty message")
	}
	r := &reader{b: b[1:]}
	switch b[0] {
	case kindEvent:
		e := &Event{}
		e.read(r)
		if r.err != nil {
			return nil, fmt.Errorf("loop codec: event: %w", r.err)
		}
		return e, nil
	case kindDelta:
		d := &DayDelta{}
		d.read(r)
		if r.err != nil {
			return nil, fmt.Errorf("loop codec: delta: %w", r.err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("loop codec: unknown kind %d", b[0])
}

func (e *Event) appendTo(b []byte) []byte {
	w := writer{b: append(b, kindEvent)}
	w.varint(int64(e.Src))
	w.varint(e.Offset)
	w.varint(e.Time)
	w.str(e.Day)
	w.byte(e.Hour)
	w.bool(e.Error)
	w.varint(int64(e.Failed))
	w.str(e.Type)
	w.str(e.ErrorType)
	w.str(e.User)
	w.str(e.IP)
	w.str(e.Host)
	w.str(e.RowHash)
	return w.b
}

func (e *Event) read(r *reader) {
	e.Src = int32(r.varint())
	e.Offset = r.varint()
	e.Time = r.varint()
	e.Day = r.str()
	e.Hour = r.byte()
	e.Error = r.bool()
	e.Failed = int32(r.varint())
	e.Type = r.str()
	e.ErrorType = r.str()
	e.User = r.str()
	e.IP = r.str()
	e.Host = r.str()
	e.RowHash = r.str()
}

func (d *DayDelta) appendTo(b []byte) []byte {
	w := writer{b: append(b, kindDelta)}
	w.byte(d.Stream)
	w.varint(int64(d.Src))
	w.varint(d.Offset)
	w.varint(d.Time)
	w.byte(d.Hour)
	w.bool(d.Error)
	w.str(d.IP)
	w.bool(d.FirstOfIP)
	w.bool(d.CrossedBF)
	w.varint(d.IPEvents)
	w.varint(d.IPFailed)
	return w.b
}

func (d *DayDelta) read(r *reader) {
	d.Stream = r.byte()
	d.Src = int32(r.varint())
	d.Offset = r.varint()
	d.Time = r.varint()
	d.Hour = r.byte()
	d.Error = r.bool()
	d.IP = r.str()
	d.FirstOfIP = r.bool()
	d.CrossedBF = r.bool()
	d.IPEvents = r.varint()
	d.IPFailed = r.varint()
}
