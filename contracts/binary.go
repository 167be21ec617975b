package contracts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A small binary writer and reader for the alert's compact encoding
// (Alert.AppendBinary): varints and length-prefixed strings. They write and
// read exactly what processors/detect's codec writes and reads for the same
// calls, so the encoding did not change when the alert moved here.

type enc struct{ b []byte }

func (w *enc) byte(v byte)      { w.b = append(w.b, v) }
func (w *enc) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *enc) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *enc) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *enc) strs(s []string) {
	w.uvarint(uint64(len(s)))
	for _, v := range s {
		w.str(v)
	}
}

var errShort = errors.New("truncated")

// dec reads what enc wrote. Strings are substrings of one copy of the input
// (one allocation per decode, not one per string).
type dec struct {
	s   string // the input
	pos int
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) byte() byte {
	if d.err != nil || d.pos >= len(d.s) {
		d.fail(errShort)
		return 0
	}
	v := d.s[d.pos]
	d.pos++
	return v
}

func (d *dec) uvarint() uint64 {
	if p := d.pos; p < len(d.s) && d.s[p] < 0x80 {
		d.pos = p + 1
		return uint64(d.s[p])
	}
	return d.uvarintSlow()
}

func (d *dec) uvarintSlow() uint64 {
	var x uint64
	var sh uint
	for i := 0; ; i++ {
		if d.err != nil || d.pos >= len(d.s) {
			d.fail(errShort)
			return 0
		}
		c := d.s[d.pos]
		d.pos++
		if i == binary.MaxVarintLen64-1 && c > 1 {
			d.fail(errors.New("varint overflow"))
			return 0
		}
		if c < 0x80 {
			return x | uint64(c)<<sh
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
}

func (d *dec) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// small reads an unsigned value that must be at most max.
func (d *dec) small(max uint64) int64 {
	v := d.uvarint()
	if v > max {
		d.fail(fmt.Errorf("value %d over %d", v, max))
		return 0
	}
	return int64(v)
}

// count reads a list length: at most max, and at most the bytes left (every
// element takes at least one byte), so garbage cannot make a big allocation.
func (d *dec) count(max int) int {
	n := d.small(uint64(max))
	if d.err == nil && n > int64(len(d.s)-d.pos) {
		d.fail(errShort)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *dec) str(max int) string {
	n := d.small(uint64(max))
	if d.err == nil && n > int64(len(d.s)-d.pos) {
		d.fail(errShort)
	}
	if d.err != nil {
		return ""
	}
	v := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return v
}

func (d *dec) strs() []string {
	n := d.count(1 << 16)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str(1 << 16)
	}
	return out
}

// finish reports the first error, or trailing bytes.
func (d *dec) finish() error {
	if d.err == nil && d.pos != len(d.s) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.s)-d.pos)
	}
	return d.err
}

func unixTime(t int64) time.Time { return time.Unix(t, 0).UTC() }
