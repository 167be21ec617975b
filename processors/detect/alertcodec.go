package detect

import (
	"fmt"

	"github.com/log-monitor/log_monitor/contracts"
)

// alertVersion is the first byte of Alert's binary encoding.
const alertVersion = 1

// AppendAlert appends a compact binary encoding of a to b. It is processor
// state, not a contract: the processors keep recent alerts in their tables
// to emit them again on a replay, while ssh-alerts carries JSON. Times keep
// second precision and come back in UTC.
func AppendAlert(b []byte, a *contracts.Alert) []byte {
	w := enc{b: append(b, alertVersion)}
	w.varint(a.Timestamp.Unix())
	w.str(a.ID)
	w.str(a.Rule)
	w.str(a.Severity)
	w.uvarint(uint64(a.Level))
	w.uvarint(uint64(a.Seq))
	w.str(a.IP)
	w.str(a.User)
	w.strs(a.Hosts)
	w.strs(a.Users)
	w.strs(a.IPs)
	w.strs(a.SampleRowHashes)
	w.varint(a.Count)
	w.varint(a.WindowSeconds)
	last := a.LastEventTime.Unix()
	w.varint(last)
	w.varint(last - a.WindowStart.Unix())
	w.varint(last - a.FirstEventTime.Unix())
	w.varint(last - a.EpisodeStart.Unix())
	if a.SameUser {
		w.byte(1)
	} else {
		w.byte(0)
	}
	w.varint(a.Offset)
	w.str(a.Message)
	return w.b
}

// DecodeAlert decodes what AppendAlert wrote into a.
func DecodeAlert(data []byte, a *contracts.Alert) error {
	d := &dec{s: string(data)}
	if v := d.byte(); v != alertVersion {
		return fmt.Errorf("detect: alert encoding version %d unknown", v)
	}
	var x contracts.Alert
	x.Timestamp = unixTime(d.varint())
	x.ID = d.str(1 << 10)
	x.Rule = d.str(1 << 10)
	x.Severity = d.str(1 << 10)
	x.Level = int(d.small(1 << 20))
	x.Seq = int(d.small(1 << 40))
	x.IP = d.str(1 << 10)
	x.User = d.str(1 << 10)
	x.Hosts = d.strs()
	x.Users = d.strs()
	x.IPs = d.strs()
	x.SampleRowHashes = d.strs()
	x.Count = d.varint()
	x.WindowSeconds = d.varint()
	last := d.varint()
	x.LastEventTime = unixTime(last)
	x.WindowStart = unixTime(last - d.varint())
	x.FirstEventTime = unixTime(last - d.varint())
	x.EpisodeStart = unixTime(last - d.varint())
	x.SameUser = d.byte() == 1
	x.Offset = d.varint()
	x.Message = d.str(1 << 20)
	if err := d.finish(); err != nil {
		return fmt.Errorf("detect: decode alert: %w", err)
	}
	*a = x
	return nil
}
