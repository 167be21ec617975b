package userstage

import (
	"fmt"

	"github.com/log-monitor/log_monitor/processors/stage"
)

// KindUserRecord is the first byte of a stored UserRecord (10 and 13 are
// the IP stage's kinds; 12 was the user record before kept alerts carried
// their loopback offset). User records lived in the IP stage's table
// before the user stage had its group: tracker.TableCodec, the views'
// codec, still reads them there.
const KindUserRecord byte = 14

// TableCodec encodes the user stage's table values (*UserRecord).
type TableCodec struct{}

// Encode implements goka.Codec.
func (TableCodec) Encode(v interface{}) ([]byte, error) {
	s, ok := v.(*UserRecord)
	if !ok {
		return nil, fmt.Errorf("table codec: cannot encode %T", v)
	}
	return s.appendTo(make([]byte, 0, 256))
}

// Decode implements goka.Codec.
func (TableCodec) Decode(b []byte) (interface{}, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("table codec: empty value")
	}
	if b[0] != KindUserRecord {
		return nil, fmt.Errorf("table codec: unknown kind %d", b[0])
	}
	s := &UserRecord{}
	r := &stage.Reader{B: b[1:]}
	s.read(r)
	if r.Err != nil {
		return nil, fmt.Errorf("table codec: kind %d: %w", b[0], r.Err)
	}
	return s, nil
}

func (s *UserRecord) appendTo(b []byte) ([]byte, error) {
	w := stage.Writer{B: append(b, KindUserRecord)}
	stage.WriteWm(&w, s.Wm)
	if err := stage.WriteBlob(&w, &s.Detect); err != nil {
		return nil, err
	}
	stage.WriteRecent(&w, s.Recent)
	return w.B, nil
}

func (s *UserRecord) read(r *stage.Reader) {
	s.Wm = stage.ReadWm(r)
	stage.ReadBlob(r, &s.Detect)
	s.Recent = stage.ReadRecent(r)
}
