package ipstage

import (
	"fmt"

	"github.com/log-monitor/log_monitor/processors/stage"
)

// Value kinds (the first byte of a value). 10 was the day aggregate when it
// lived in the table with a watermark per loopback stream; 11 and 12 were
// the IP and user records before kept alerts carried their loopback offset:
// values of those formats are refused with "unknown kind". 14 is the user
// stage's record (userstage.TableCodec).
const (
	kindIPRecord byte = 13
	kindDayState byte = 15
)

// DayCodec encodes the days topic's values (*DayState).
type DayCodec struct{}

// Encode implements goka.Codec.
func (DayCodec) Encode(v interface{}) ([]byte, error) {
	s, ok := v.(*DayState)
	if !ok {
		return nil, fmt.Errorf("day codec: cannot encode %T", v)
	}
	return s.appendTo(make([]byte, 0, 256)), nil
}

// Decode implements goka.Codec.
func (DayCodec) Decode(b []byte) (interface{}, error) { return DecodeDay(b) }

// DecodeDay decodes a days topic value.
func DecodeDay(b []byte) (*DayState, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("day codec: empty value")
	}
	if b[0] != kindDayState {
		return nil, fmt.Errorf("day codec: unknown kind %d", b[0])
	}
	r := &stage.Reader{B: b[1:]}
	s := &DayState{}
	s.read(r)
	if r.Err != nil {
		return nil, fmt.Errorf("day codec: %w", r.Err)
	}
	return s, nil
}

// TableCodec encodes the IP stage's table values (*IPRecord).
type TableCodec struct{}

// Encode implements goka.Codec.
func (TableCodec) Encode(v interface{}) ([]byte, error) {
	if s, ok := v.(*IPRecord); ok {
		return s.appendTo(make([]byte, 0, 512))
	}
	return nil, fmt.Errorf("table codec: cannot encode %T", v)
}

// Decode implements goka.Codec.
func (TableCodec) Decode(b []byte) (interface{}, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("table codec: empty value")
	}
	r := &stage.Reader{B: b[1:]}
	var v interface{}
	switch b[0] {
	case kindIPRecord:
		s := &IPRecord{}
		s.read(r)
		v = s
	default:
		return nil, fmt.Errorf("table codec: unknown kind %d", b[0])
	}
	if r.Err != nil {
		return nil, fmt.Errorf("table codec: kind %d: %w", b[0], r.Err)
	}
	return v, nil
}

func (s *IPRecord) appendTo(b []byte) ([]byte, error) {
	w := stage.Writer{B: append(b, kindIPRecord)}
	stage.WriteWm(&w, s.Wm)
	w.Uvarint(uint64(len(s.Days)))
	for _, d := range s.Days {
		w.Str(d.Day)
		w.Varint(d.Events)
		w.Varint(d.Failed)
		stage.WritePos(&w, d.First)
		stage.WritePos(&w, d.Cross)
	}
	if err := stage.WriteBlob(&w, &s.Detect); err != nil {
		return nil, err
	}
	stage.WriteRecent(&w, s.Recent)
	return w.B, nil
}

func (s *IPRecord) read(r *stage.Reader) {
	s.Wm = stage.ReadWm(r)
	s.Days = make([]IPDay, r.Count(KeepDays))
	for i := range s.Days {
		d := &s.Days[i]
		d.Day = r.Str()
		d.Events = r.Varint()
		d.Failed = r.Varint()
		d.First = stage.ReadPos(r)
		d.Cross = stage.ReadPos(r)
	}
	stage.ReadBlob(r, &s.Detect)
	s.Recent = stage.ReadRecent(r)
}
