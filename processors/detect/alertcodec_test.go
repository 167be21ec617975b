package detect

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

func sampleAlert() contracts.Alert {
	last := time.Date(2015, 12, 10, 7, 8, 28, 0, time.UTC)
	return contracts.Alert{Timestamp: last, ID: "0123456789abcdef0123456789abcdef", Rule: contracts.RuleBruteForce, Severity: "high",
		Level: 1, Seq: 2, IP: "112.95.230.3", User: "root", Hosts: []string{"LabSZ"}, Users: []string{"root", "admin"},
		SampleRowHashes: []string{"aa", "bb"}, Count: 25, WindowSeconds: 300,
		WindowStart: last.Add(-90 * time.Second), FirstEventTime: last.Add(-200 * time.Second), LastEventTime: last,
		EpisodeStart: last.Add(-100 * time.Second), SameUser: true, Offset: 123456, Message: "brute force from 112.95.230.3"}
}

// alertGolden is sampleAlert's binary encoding as the processors have
// always written it: they keep alerts in their stored state, so the
// encoding must not change.
const alertGolden = "01d893c9e60a2030313233343536373839616263646566303132333435363738396162636465660b62727574655f666f726365046869676801020c3131322e39352e3233302e3304726f6f7401054c6162535a0204726f6f740561646d696e000202616102626232d804d893c9e60ab4019003c8010180890f1d627275746520666f7263652066726f6d203131322e39352e3233302e33"

func TestAlertBinary(t *testing.T) {
	a := sampleAlert()
	b := AppendAlert(nil, &a)
	if got := hex.EncodeToString(b); got != alertGolden {
		t.Fatalf("encoding changed:\n got %s\nwant %s", got, alertGolden)
	}
	var back contracts.Alert
	if err := DecodeAlert(b, &back); err != nil || !reflect.DeepEqual(back, a) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, a)
	}
	for i := range b {
		if err := DecodeAlert(b[:i], &back); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", i)
		}
	}
	if err := DecodeAlert(append(b, 0), &back); err == nil {
		t.Fatal("trailing byte accepted")
	}
}
