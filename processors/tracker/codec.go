package tracker

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/log-monitor/log_monitor/contracts"
)

// Table value kinds: the group's one table holds three kinds of value.
// (11 and 12 were the IP and user records before kept alerts carried their
// loopback offset; a table of that format is refused with "unknown kind".)
const (
	kindDayState  byte = 10
	kindIPRecord  byte = 13
	kindUserState byte = 14
)

// TableCodec encodes the table's values (*DayState, *IPRecord, *UserRecord).
type TableCodec struct{}

// Encode implements goka.Codec.
func (TableCodec) Encode(v interface{}) ([]byte, error) {
	switch s := v.(type) {
	case *DayState:
		return s.appendTo(make([]byte, 0, 256)), nil
	case *IPRecord:
		return s.appendTo(make([]byte, 0, 512))
	case *UserRecord:
		return s.appendTo(make([]byte, 0, 256))
	}
	return nil, fmt.Errorf("table codec: cannot encode %T", v)
}

// Decode implements goka.Codec.
func (TableCodec) Decode(b []byte) (interface{}, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("table codec: empty value")
	}
	r := &reader{b: b[1:]}
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
	case kindUserState:
		s := &UserRecord{}
		s.read(r)
		v = s
	default:
		return nil, fmt.Errorf("table codec: unknown kind %d", b[0])
	}
	if r.err != nil {
		return nil, fmt.Errorf("table codec: kind %d: %w", b[0], r.err)
	}
	return v, nil
}

func writeWm(w *writer, wm []int64) {
	w.uvarint(uint64(len(wm)))
	for _, v := range wm {
		w.varint(v)
	}
}

func readWm(r *reader) []int64 {
	wm := make([]int64, r.count(1024))
	for i := range wm {
		wm[i] = r.varint()
	}
	return wm
}

func writePos(w *writer, p Pos) {
	w.varint(int64(p.Src))
	w.varint(p.Offset)
}

func readPos(r *reader) Pos { return Pos{Src: int32(r.varint()), Offset: r.varint()} }

// writeRecent writes kept alerts; each alert is length-prefixed binary
// (the form writeBlob gives a contracts.Alert), copied as it is.
func writeRecent(w *writer, recent []emitted) {
	w.uvarint(uint64(len(recent)))
	for _, e := range recent {
		writePos(w, e.At)
		w.varint(e.Loop)
		w.bytes(e.Alert)
	}
}

// readRecent reads kept alerts, their binary form copied out of r (a
// stored value's bytes are not ours to keep).
func readRecent(r *reader) []emitted {
	out := make([]emitted, r.count(keepAlerts))
	for i := range out {
		out[i].At = readPos(r)
		out[i].Loop = r.varint()
		out[i].Alert = append([]byte(nil), r.bytes()...)
	}
	return out
}

// writeBlob appends m's binary form, length-prefixed, without a copy.
func writeBlob(w *writer, m interface{ AppendBinary([]byte) ([]byte, error) }) error {
	var lenBuf [binary.MaxVarintLen64]byte
	start := len(w.b)
	w.b = append(w.b, lenBuf[:]...) // room for the length, fixed below
	b, err := m.AppendBinary(w.b)
	if err != nil {
		return err
	}
	body := b[start+len(lenBuf):]
	n := binary.PutUvarint(lenBuf[:], uint64(len(body)))
	copy(b[start:], lenBuf[:n])
	w.b = append(b[:start+n], body...)
	return nil
}

// readBlob decodes a length-prefixed binary value into m (which copies
// what it keeps).
func readBlob(r *reader, m interface{ UnmarshalBinary([]byte) error }) {
	b := r.bytes()
	if r.err != nil {
		return
	}
	if err := m.UnmarshalBinary(b); err != nil {
		r.err = err
	}
}

func (s *IPRecord) appendTo(b []byte) ([]byte, error) {
	w := writer{b: append(b, kindIPRecord)}
	writeWm(&w, s.Wm)
	w.uvarint(uint64(len(s.Days)))
	for _, d := range s.Days {
		w.str(d.Day)
		w.varint(d.Events)
		w.varint(d.Failed)
		writePos(&w, d.First)
		writePos(&w, d.Cross)
	}
	if err := writeBlob(&w, &s.Detect); err != nil {
		return nil, err
	}
	writeRecent(&w, s.Recent)
	return w.b, nil
}

func (s *IPRecord) read(r *reader) {
	s.Wm = readWm(r)
	s.Days = make([]IPDay, r.count(KeepDays))
	for i := range s.Days {
		d := &s.Days[i]
		d.Day = r.str()
		d.Events = r.varint()
		d.Failed = r.varint()
		d.First = readPos(r)
		d.Cross = readPos(r)
	}
	readBlob(r, &s.Detect)
	s.Recent = readRecent(r)
}

func (s *UserRecord) appendTo(b []byte) ([]byte, error) {
	w := writer{b: append(b, kindUserState)}
	writeWm(&w, s.Wm)
	if err := writeBlob(&w, &s.Detect); err != nil {
		return nil, err
	}
	writeRecent(&w, s.Recent)
	return w.b, nil
}

func (s *UserRecord) read(r *reader) {
	s.Wm = readWm(r)
	readBlob(r, &s.Detect)
	s.Recent = readRecent(r)
}

// AlertCodec encodes alerts as the JSON of ssh-alerts.
type AlertCodec struct{}

// Encode implements goka.Codec.
func (AlertCodec) Encode(v interface{}) ([]byte, error) {
	a, ok := v.(*contracts.Alert)
	if !ok {
		return nil, fmt.Errorf("alert codec: cannot encode %T", v)
	}
	return json.Marshal(a)
}

// Decode implements goka.Codec.
func (AlertCodec) Decode(b []byte) (interface{}, error) {
	var a contracts.Alert
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("alert codec: %w", err)
	}
	return &a, nil
}
