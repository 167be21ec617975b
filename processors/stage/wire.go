package stage

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Writer and Reader are a small binary writer and reader for the stages'
// loopback messages and table values: varints and length-prefixed strings.
// The state is re-encoded at every event, so it must be cheap and compact.

// Writer appends to B.
type Writer struct{ B []byte }

func (w *Writer) Byte(v byte)      { w.B = append(w.B, v) }
func (w *Writer) Varint(v int64)   { w.B = binary.AppendVarint(w.B, v) }
func (w *Writer) Uvarint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }
func (w *Writer) Str(s string) {
	w.B = binary.AppendUvarint(w.B, uint64(len(s)))
	w.B = append(w.B, s...)
}
func (w *Writer) Bytes(b []byte) {
	w.B = binary.AppendUvarint(w.B, uint64(len(b)))
	w.B = append(w.B, b...)
}
func (w *Writer) Bool(v bool) {
	if v {
		w.B = append(w.B, 1)
	} else {
		w.B = append(w.B, 0)
	}
}

var errShort = errors.New("truncated value")

// Reader reads from B; the first error sticks in Err and every later read
// returns a zero value.
type Reader struct {
	B   []byte
	Err error
}

func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.B) == 0 {
		r.Err = errShort
		return 0
	}
	v := r.B[0]
	r.B = r.B[1:]
	return v
}

func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = errShort
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = errShort
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Str() string {
	n := r.Uvarint()
	if r.Err != nil {
		return ""
	}
	if uint64(len(r.B)) < n {
		r.Err = errShort
		return ""
	}
	s := string(r.B[:n])
	r.B = r.B[n:]
	return s
}

// Bytes returns a length-prefixed byte string without copying it.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if r.Err != nil {
		return nil
	}
	if uint64(len(r.B)) < n {
		r.Err = errShort
		return nil
	}
	b := r.B[:n:n]
	r.B = r.B[n:]
	return b
}

func (r *Reader) Bool() bool { return r.Byte() == 1 }

// Count reads a length that must be at most max (guards garbage input).
func (r *Reader) Count(max int) int {
	n := r.Uvarint()
	if r.Err == nil && n > uint64(max) {
		r.Err = fmt.Errorf("length %d over %d", n, max)
	}
	if r.Err != nil {
		return 0
	}
	return int(n)
}
