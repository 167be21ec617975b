package sshlog

import (
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// benchLines returns the replica's lines, decompressed into memory.
func benchLines(b *testing.B) []rawLine {
	b.Helper()
	return splitLines(replicaData(b))
}

func benchParse(b *testing.B, encode bool) {
	lines := benchLines(b)
	loc := seoul(b)
	src := Source{Path: "/data/ssh-replica/SSH.log", Year: 2015, Loc: loc}
	collected := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 4096)
	var p *Parser
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(lines)
		if k == 0 {
			p = NewParser(src, nil) // each pass over the file starts in 2015 again
		}
		e := p.Parse(lines[k].text, lines[k].offset, collected)
		if encode {
			buf = e.AppendJSON(buf[:0])
			bytes += int64(len(buf))
		}
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "lines/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/line")
	if encode {
		b.ReportMetric(float64(bytes)/float64(b.N), "json_bytes/line")
	}
}

// BenchmarkParse parses the replica's lines (one op = one line).
func BenchmarkParse(b *testing.B) { benchParse(b, false) }

// BenchmarkParseAppendJSON parses and encodes the replica's lines (one op = one line).
func BenchmarkParseAppendJSON(b *testing.B) { benchParse(b, true) }

func BenchmarkRowHash(b *testing.B) {
	line := "Dec 10 06:55:48 LabSZ sshd[24200]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186 "
	var h rowHasher
	h.init("/data/ssh-replica/SSH.log")
	var out [32]byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.sum(&out, int64(i), line)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	lines := benchLines(b)
	p := NewParser(Source{Path: "/data/ssh-replica/SSH.log", Year: 2015, Loc: seoul(b)}, nil)
	events := make([]contracts.Event, 4096)
	for i := range events {
		events[i] = p.Parse(lines[i].text, lines[i].offset, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = events[i%len(events)].AppendJSON(buf[:0])
	}
}
