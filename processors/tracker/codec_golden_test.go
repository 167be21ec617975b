package tracker_test

import (
	"encoding/hex"
	"testing"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/ipstage"
	"github.com/log-monitor/log_monitor/processors/stage"
	"github.com/log-monitor/log_monitor/processors/tracker"
	"github.com/log-monitor/log_monitor/processors/userstage"
)

// The stored table values and loopback messages are byte for byte what the
// single tracker package wrote before the stages had packages of their own
// (the hex strings were encoded by that code), through each stage's codec
// and through the views' TableCodec; and they decode back. The day state is
// pinned in its own format since it moved to the days topic (kind 15, one
// watermark).
func TestCodecsWriteTheBytesOfBefore(t *testing.T) {
	rules := detect.DefaultRules()
	var st detect.IPState
	st.Apply(&rules, detect.Event{Time: 1449709961, Offset: 3, Type: "failed_password", User: "root", IP: "10.0.0.1", Failed: 1}, func(contracts.Alert) {})
	cases := []struct {
		name  string
		codec goka.Codec
		v     interface{}
		want  string
	}{
		{"ip record", ipstage.TableCodec{}, &ipstage.IPRecord{Wm: []int64{5, -1, 9}, Days: []ipstage.IPDay{{Day: "2015-12-10", Events: 7, Failed: 3}}, Detect: st}, "0d030a0112010a323031352d31322d31300e06000000001d020192c6c6e60a00010000000101010000000001000104726f6f74000000"},
		{"day state", ipstage.DayCodec{}, &ipstage.DayState{Day: "2015-12-10", Partition: 2, Wm: 4, Total: 9, Errors: 2, UniqueIPs: 3, BruteIPs: 1,
			TopEvents: []contracts.IPCount{{IP: "10.0.0.1", Cnt: 5}}, MaxTime: 1449709961, Updated: 1700000000000}, "0f0a323031352d31322d3130040812040000000000000000000000000000000000000000000000000602010831302e302e302e310a0092c6c6e60a80a0abfef962"},
		{"user record", userstage.TableCodec{}, &userstage.UserRecord{Wm: []int64{3, 4}}, "0e02060802020000"},
		{"event (user loop)", stage.EventCodec{}, &stage.Event{Src: 1, Offset: 42, Time: 1449709961, Day: "2015-12-10", Hour: 9, Error: true, Failed: 2,
			Type: "failed_password", User: "root", IP: "10.0.0.1", Host: "LabSZ", RowHash: "ab"}, "01025492c6c6e60a0a323031352d31322d31300901040f6661696c65645f70617373776f72640004726f6f740831302e302e302e31054c6162535a026162"},
	}
	for _, c := range cases {
		codecs := []goka.Codec{c.codec}
		if c.name == "ip record" || c.name == "user record" {
			codecs = append(codecs, tracker.TableCodec{})
		}
		for _, codec := range codecs {
			b, err := codec.Encode(c.v)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := hex.EncodeToString(b); got != c.want {
				t.Errorf("%s (%T): encoded\n%s\nwant\n%s", c.name, codec, got, c.want)
			}
			v, err := codec.Decode(b)
			if err != nil {
				t.Fatalf("%s (%T): decode: %v", c.name, codec, err)
			}
			again, err := codec.Encode(v)
			if err != nil || hex.EncodeToString(again) != c.want {
				t.Errorf("%s (%T): decoded value encodes to %x (%v)", c.name, codec, again, err)
			}
		}
	}
}
