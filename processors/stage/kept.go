package stage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// An IP's (or user's) alerts are kept to be emitted again when the input
// that raised them is replayed, until the group has committed the loopback
// message that raised them (exactly.Guard.Committed): below the committed offset nothing
// is replayed and every output is in Kafka. Where the committed offset is
// not known (goka's tester, the first second of a run) an alert is kept
// until its source partition has moved keepOffsets past its input: a crash
// loses only outputs still in the producer's backlog, some tens of
// thousands of messages. At most KeepAlerts are kept (an attack's onset
// raises up to 24: 6 rules, 4 levels).
const (
	KeepAlerts  = 24
	keepOffsets = 100_000
)

// Pos is a position in ssh-log.
type Pos struct {
	Src    int32
	Offset int64
}

// Is reports whether p is e's position.
func (p Pos) Is(e *Event) bool { return p.Src == e.Src && p.Offset == e.Offset }

// Kept is an alert kept with the input position that raised it.
type Kept struct {
	At Pos
	// Loop is the offset of the loopback message that raised it.
	Loop int64
	// Alert is the alert's binary form (detect.AppendAlert): kept
	// alerts are carried through every event of their key but decoded
	// only to be emitted again, so they stay encoded (decoding and
	// encoding them at every event was 15% of the processor's CPU).
	Alert []byte
}

// Remember keeps alert a, raised by e (the loopback message ctx handles).
func (b *Base) Remember(ctx goka.Context, recent []Kept, e *Event, a contracts.Alert) []Kept {
	recent = append(recent, Kept{At: Pos{e.Src, e.Offset}, Loop: ctx.Offset(), Alert: detect.AppendAlert(nil, &a)})
	if len(recent) > KeepAlerts {
		recent = recent[len(recent)-KeepAlerts:]
	}
	return recent
}

// Forget drops the alerts that can no longer need re-emission: raised below
// the group's committed loopback offset (-1: unknown), or else whose source
// partition has moved keepOffsets past their input (wm: the applied offset
// per source partition).
func Forget(recent []Kept, wm []int64, committed int64) []Kept {
	kept := recent[:0]
	for _, a := range recent {
		if committed >= 0 && a.Loop < committed {
			continue
		}
		if int(a.At.Src) < len(wm) && a.At.Offset < wm[a.At.Src]-keepOffsets {
			continue
		}
		kept = append(kept, a)
	}
	return kept
}

// Reemit sends again the alerts that e raised the first time.
func (b *Base) Reemit(ctx goka.Context, recent []Kept, e *Event) {
	for _, a := range recent {
		if !a.At.Is(e) {
			continue
		}
		var alert contracts.Alert
		if err := detect.DecodeAlert(a.Alert, &alert); err != nil {
			ctx.Fail(fmt.Errorf("kept alert of %s/%d: %w", ctx.Key(), e.Offset, err))
		}
		b.EmitAlert(ctx, alert)
	}
}

// EmitAlert sends an alert to ssh-alerts, keyed by its IP (or user).
func (b *Base) EmitAlert(ctx goka.Context, a contracts.Alert) {
	key := a.IP
	if key == "" {
		key = a.User
	}
	b.M.Alerts.WithLabelValues(a.Rule).Inc()
	ctx.Emit(goka.Stream(b.Alerts), key, &a)
}

// WriteWm writes a watermark per source partition.
func WriteWm(w *Writer, wm []int64) {
	w.Uvarint(uint64(len(wm)))
	for _, v := range wm {
		w.Varint(v)
	}
}

// ReadWm reads what WriteWm wrote.
func ReadWm(r *Reader) []int64 {
	wm := make([]int64, r.Count(1024))
	for i := range wm {
		wm[i] = r.Varint()
	}
	return wm
}

// WritePos writes an ssh-log position.
func WritePos(w *Writer, p Pos) {
	w.Varint(int64(p.Src))
	w.Varint(p.Offset)
}

// ReadPos reads what WritePos wrote.
func ReadPos(r *Reader) Pos { return Pos{Src: int32(r.Varint()), Offset: r.Varint()} }

// WriteRecent writes kept alerts; each alert is length-prefixed binary
// (the form WriteBlob gives a contracts.Alert), copied as it is.
func WriteRecent(w *Writer, recent []Kept) {
	w.Uvarint(uint64(len(recent)))
	for _, e := range recent {
		WritePos(w, e.At)
		w.Varint(e.Loop)
		w.Bytes(e.Alert)
	}
}

// ReadRecent reads kept alerts, their binary form copied out of r (a
// stored value's bytes are not ours to keep).
func ReadRecent(r *Reader) []Kept {
	out := make([]Kept, r.Count(KeepAlerts))
	for i := range out {
		out[i].At = ReadPos(r)
		out[i].Loop = r.Varint()
		out[i].Alert = append([]byte(nil), r.Bytes()...)
	}
	return out
}

// WriteBlob appends m's binary form, length-prefixed, without a copy.
func WriteBlob(w *Writer, m interface{ AppendBinary([]byte) ([]byte, error) }) error {
	var lenBuf [binary.MaxVarintLen64]byte
	start := len(w.B)
	w.B = append(w.B, lenBuf[:]...) // room for the length, fixed below
	b, err := m.AppendBinary(w.B)
	if err != nil {
		return err
	}
	body := b[start+len(lenBuf):]
	n := binary.PutUvarint(lenBuf[:], uint64(len(body)))
	copy(b[start:], lenBuf[:n])
	w.B = append(b[:start+n], body...)
	return nil
}

// ReadBlob decodes a length-prefixed binary value into m (which copies
// what it keeps).
func ReadBlob(r *Reader, m interface{ UnmarshalBinary([]byte) error }) {
	b := r.Bytes()
	if r.Err != nil {
		return
	}
	if err := m.UnmarshalBinary(b); err != nil {
		r.Err = err
	}
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
