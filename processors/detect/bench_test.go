package detect

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
)

// benchProcess does per event what the processor does: decode the key's
// state, Apply, encode it again (the IP state for events with an IP, the user
// state as well for failures with a user).
func benchProcess(b *testing.B, evs []Event) {
	r := DefaultRules()
	ipStore := map[string][]byte{}
	userStore := map[string][]byte{}
	alerts := 0
	emit := func(contracts.Alert) { alerts++ }
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := evs[i%len(evs)]
		if e.IP != "" {
			var s IPState
			if old := ipStore[e.IP]; old != nil {
				if err := s.UnmarshalBinary(old); err != nil {
					b.Fatal(err)
				}
			}
			s.Apply(&r, e, emit)
			buf, _ = s.AppendBinary(ipStore[e.IP][:0])
			ipStore[e.IP] = buf
		}
		if e.Failed > 0 && e.User != "" {
			var s UserState
			if old := userStore[e.User]; old != nil {
				if err := s.UnmarshalBinary(old); err != nil {
					b.Fatal(err)
				}
			}
			s.Apply(&r, e, emit)
			buf, _ = s.AppendBinary(userStore[e.User][:0])
			userStore[e.User] = buf
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// replicaEvents parses up to n lines of the replica (nil if absent).
func replicaEvents(n int) []Event {
	p, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "ssh-replica", "SSH.log.gz"))
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		return nil
	}
	ps := sshlog.NewParser(sshlog.Source{Path: "/data/SSH.log", Year: 2015, Loc: loc}, nil)
	sc := bufio.NewScanner(zr)
	var out []Event
	var off int64
	for sc.Scan() && len(out) < n {
		e := ps.Parse(sc.Text(), off, time.Time{})
		off += int64(len(sc.Text())) + 1
		ev := FromSSHLog(&e, int64(len(out)))
		ev.User, ev.IP, ev.Host = strings.Clone(ev.User), strings.Clone(ev.IP), strings.Clone(ev.Host)
		out = append(out, ev)
	}
	return out
}

func BenchmarkApply(b *testing.B) {
	b.Run("replica", func(b *testing.B) {
		// the first 100,000 lines (a day and a half): a bounded live heap, so
		// that the GC does not mostly scan the benchmark's own event list
		evs := replicaEvents(100000)
		if evs == nil {
			b.Skip("replica not present")
		}
		benchProcess(b, evs)
	})
	b.Run("random-1000-ips", func(b *testing.B) {
		benchProcess(b, randomStream(1, 100000, 1000, 200, false))
	})
	b.Run("one-ip-under-attack", func(b *testing.B) {
		s := &stream{}
		for i := range 100000 {
			s.add(failEv(t0+int64(i/3), "198.51.100.77", fmt.Sprintf("user%d", i%500)))
		}
		benchProcess(b, s.evs)
	})
}

// BenchmarkApplyNoCodec is Apply alone on in-memory states.
func BenchmarkApplyNoCodec(b *testing.B) {
	evs := randomStream(1, 200000, 1000, 200, false)
	r := DefaultRules()
	ips := map[string]*IPState{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := evs[i%len(evs)]
		if e.IP == "" {
			continue
		}
		s := ips[e.IP]
		if s == nil {
			s = &IPState{}
			ips[e.IP] = s
		}
		s.Apply(&r, e, nil)
	}
}

// benignState is a typical IP: a mistyped password, a login, a disconnect.
func benignState() (*IPState, Event) {
	var s IPState
	r := DefaultRules()
	s.Apply(&r, Event{Time: t0, Type: contracts.TypeAuthFailure, User: "admin", IP: "192.0.2.4", Host: "LabSZ", RowHash: "0123456789abcdef0123456789abcdef", Failed: 1}, nil)
	s.Apply(&r, Event{Time: t0 + 2, Type: contracts.TypeAuthSuccess, User: "admin", IP: "192.0.2.4", Host: "LabSZ", RowHash: "0123456789abcdef0123456789abcdee"}, nil)
	return &s, Event{Time: t0 + 3, Type: contracts.TypeDisconnect, IP: "192.0.2.4", Host: "LabSZ", RowHash: "0123456789abcdef0123456789abcded"}
}

// attackState is an IP in the middle of a dictionary attack (3 failures a
// second, 500 user names): every list full, three episodes running.
func attackState() (*IPState, Event) {
	var s IPState
	r := DefaultRules()
	for i := range 1000 {
		e := failEv(t0+int64(i/3), "198.51.100.77", fmt.Sprintf("user%d", i%500))
		e.Host, e.RowHash = "LabSZ", fmt.Sprintf("%032x", i)
		s.Apply(&r, e, nil)
	}
	e := failEv(t0+400, "198.51.100.77", "user7")
	e.Host, e.RowHash = "LabSZ", fmt.Sprintf("%032x", 1000)
	return &s, e
}

var sinkState *IPState

// BenchmarkStateParts measures the three steps of one event separately, on a
// heap-allocated state as in the processor.
func BenchmarkStateParts(b *testing.B) {
	for _, c := range []struct {
		name string
		mk   func() (*IPState, Event)
	}{{"benign", benignState}, {"attack", attackState}} {
		s, e := c.mk()
		data, _ := s.MarshalBinary()
		r := DefaultRules()
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(data)), "state-bytes")
			for b.Loop() {
				sinkState = new(IPState)
				if err := sinkState.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/apply", func(b *testing.B) {
			b.ReportAllocs()
			x := *s
			for b.Loop() {
				e.Time++
				x.Apply(&r, e, nil)
			}
		})
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf, _ = s.AppendBinary(buf[:0])
			}
		})
	}
}
