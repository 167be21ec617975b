package ipstage

import (
	"fmt"

	"github.com/log-monitor/log_monitor/processors/stage"
)

// Table value kinds: the IP stage's table holds day aggregates and IP
// records. (11 and 12 were the IP and user records before kept alerts
// carried their loopback offset; a table of that format is refused with
// "unknown kind". 14 is the user stage's record, userstage.TableCodec.)
const (
	kindDayState byte = 10
	kindIPRecord byte = 13
)

// TableCodec encodes the IP stage's table values (*DayState, *IPRecord).
type TableCodec struct{}

// Encode implements goka.Codec.
func (TableCodec) Encode(v interface{}) ([]byte, error) {
	switch s := v.(type) {
	case *DayState:
		return s.appendTo(make([]byte, 0, 256)), nil
	case *IPRecord:
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
	case kindDayState:
		s := &DayState{}
		s.read(r)
		v = s
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
