package ipstage

import (
	"reflect"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// Kept alerts stay in their binary form through the table codec and decode
// to the alert that was kept (what a replay emits again).
func TestKeptAlertsRoundTrip(t *testing.T) {
	a := contracts.Alert{Timestamp: time.Unix(1449709961, 0).UTC(), ID: "0123456789abcdef0123456789abcdef", Rule: "brute_force",
		Severity: "high", Level: 1, Seq: 2, IP: "198.51.100.7", Hosts: []string{"LabSZ"}, Users: []string{"root", "admin"}}
	bin := detect.AppendAlert(nil, &a)
	rec := &IPRecord{Wm: []int64{5, -1, 9}, Recent: []stage.Kept{{At: stage.Pos{Src: 2, Offset: 9}, Loop: 77, Alert: bin}}}
	enc, err := TableCodec{}.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	v, err := TableCodec{}.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*IPRecord)
	enc[len(enc)-1] ^= 0xff // the decoded record must not share the stored bytes
	if len(got.Recent) != 1 || got.Recent[0].At != (stage.Pos{Src: 2, Offset: 9}) || got.Recent[0].Loop != 77 {
		t.Fatalf("kept alerts %+v", got.Recent)
	}
	var back contracts.Alert
	if err := detect.DecodeAlert(got.Recent[0].Alert, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a) {
		t.Errorf("kept alert decodes to\n%+v\nwant\n%+v", back, a)
	}
}
