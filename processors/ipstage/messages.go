package ipstage

import (
	"fmt"

	"github.com/log-monitor/log_monitor/processors/stage"
)

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

// kindDelta marks a DayDelta in the loopback (stage.KindEvent an Event).
const kindDelta byte = 2

// LoopCodec encodes the IP stage's loopback messages (*stage.Event, *DayDelta).
type LoopCodec struct{}

// Encode implements goka.Codec.
func (LoopCodec) Encode(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case *stage.Event:
		return stage.EventCodec{}.Encode(m)
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
	r := &stage.Reader{B: b[1:]}
	switch b[0] {
	case stage.KindEvent:
		return stage.EventCodec{}.Decode(b)
	case kindDelta:
		d := &DayDelta{}
		d.read(r)
		if r.Err != nil {
			return nil, fmt.Errorf("loop codec: delta: %w", r.Err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("loop codec: unknown kind %d", b[0])
}

func (d *DayDelta) appendTo(b []byte) []byte {
	w := stage.Writer{B: append(b, kindDelta)}
	w.Byte(d.Stream)
	w.Varint(int64(d.Src))
	w.Varint(d.Offset)
	w.Varint(d.Time)
	w.Byte(d.Hour)
	w.Bool(d.Error)
	w.Str(d.IP)
	w.Bool(d.FirstOfIP)
	w.Bool(d.CrossedBF)
	w.Varint(d.IPEvents)
	w.Varint(d.IPFailed)
	return w.B
}

func (d *DayDelta) read(r *stage.Reader) {
	d.Stream = r.Byte()
	d.Src = int32(r.Varint())
	d.Offset = r.Varint()
	d.Time = r.Varint()
	d.Hour = r.Byte()
	d.Error = r.Bool()
	d.IP = r.Str()
	d.FirstOfIP = r.Bool()
	d.CrossedBF = r.Bool()
	d.IPEvents = r.Varint()
	d.IPFailed = r.Varint()
}
