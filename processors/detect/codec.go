package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// enc is a small binary writer: varints and length-prefixed strings.
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
		d.over(v, max)
		return 0
	}
	return int64(v)
}

//go:noinline
func (d *dec) over(v, max uint64) { d.fail(fmt.Errorf("value %d over %d", v, max)) }

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

// Lists are written newest first, times as differences from the state's
// newest time (small varints). A state writes all its list lengths first, so
// that decoding allocates one array per element type (with a spare slot per
// list, so that the next Apply does not reallocate).

func (w *enc) ring(r ring, base int64) {
	prev := base
	for i := len(r) - 1; i >= 0; i-- {
		w.varint(prev - r[i].t)
		w.uvarint(uint64(r[i].n))
		prev = r[i].t
	}
}

// ring fills r (its length already set) with what enc.ring wrote.
func (d *dec) ring(r ring, base int64) {
	n := len(r)
	prev := base
	for i := n - 1; i >= 0; i-- {
		t := prev - d.varint()
		c := d.small(maxRepeat)
		if d.err != nil {
			return
		}
		if c < 1 || (i < n-1 && t >= prev) {
			d.fail(errors.New("failures not in ascending time order"))
			return
		}
		r[i] = tc{t, c}
		prev = t
	}
}

func (w *enc) lru(l lru, base int64) {
	prev := base
	for i := len(l) - 1; i >= 0; i-- {
		w.str(l[i].v)
		w.varint(prev - l[i].t)
		prev = l[i].t
	}
}

// lru fills l (its length already set) with what enc.lru wrote.
func (d *dec) lru(l lru, base int64) {
	n := len(l)
	prev := base
	for i := n - 1; i >= 0; i-- {
		v := d.str(maxStr)
		t := prev - d.varint()
		if d.err != nil {
			return
		}
		if i < n-1 && t > prev {
			d.fail(errors.New("names not in ascending time order"))
			return
		}
		l[i] = ent{v, t}
		prev = t
	}
}

// lengths reads list lengths, each at most max, in total at most the bytes
// left (every element takes at least two bytes).
func (d *dec) lengths(ns []int, max int) {
	total := 0
	for i := range ns {
		ns[i] = d.count(max)
		total += ns[i]
	}
	if d.err == nil && 2*total > len(d.s)-d.pos {
		d.fail(errShort)
	}
}

func (w *enc) episode(e *episode, base int64) {
	w.uvarint(uint64(e.seq))
	w.uvarint(uint64(e.level))
	w.varint(base - e.start)
	w.varint(e.start - e.first)
	w.varint(base - e.lastAlert)
	w.varint(base - e.lastActive)
	w.varint(e.count)
}

// maxStoredEpisodes bounds the episodes a stored state may list (garbage
// must not make a big allocation); a state holds one per rule at most.
const maxStoredEpisodes = 64

// namedEpisode writes an episode under its rule's name (codec version 2):
// names, not positions in a list of rules, identify a rule in stored state.
func (w *enc) namedEpisode(rule string, e *episode, base int64) {
	w.str(rule)
	w.episode(e, base)
}

// namedEpisode reads what enc.namedEpisode wrote.
func (d *dec) namedEpisode(base int64) (string, episode) {
	name := d.str(maxStr)
	return name, d.episode(base)
}

func (d *dec) episode(base int64) episode {
	var e episode
	e.seq = d.small(1 << 40)
	e.level = d.small(MaxEscalationSteps)
	e.start = base - d.varint()
	e.first = e.start - d.varint()
	e.lastAlert = base - d.varint()
	e.lastActive = base - d.varint()
	e.count = d.varint()
	if d.err == nil && e.seq < 1 {
		d.fail(errors.New("episode without alerts"))
	}
	return e
}
