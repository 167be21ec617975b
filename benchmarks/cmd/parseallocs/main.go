// Command parseallocs parses a file's lines in memory with connectors/sshlog,
// as BenchmarkParse does, and prints the exact heap allocations per line
// (go test's allocs/op is rounded down to an integer) and the parse time per
// line of the best of a few passes.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
)

func main() {
	year := flag.Int("year", 2015, "start year of the file")
	tz := flag.String("source-tz", "Asia/Seoul", "time zone of the file")
	passes := flag.Int("passes", 5, "passes over the file")
	encode := flag.Bool("json", false, "also encode each event to JSON (AppendJSON)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: parseallocs [-json] FILE[.gz]")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *year, *tz, *passes, *encode); err != nil {
		fmt.Fprintln(os.Stderr, "parseallocs:", err)
		os.Exit(1)
	}
}

type line struct {
	text   string
	offset int64
}

func run(path string, year int, tz string, passes int, encode bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if b, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return err
	}
	data := string(b)
	var lines []line
	for off := 0; off < len(data); {
		n := strings.IndexByte(data[off:], '\n') + 1
		if n == 0 {
			n = len(data) - off
		}
		lines = append(lines, line{data[off : off+n], int64(off)})
		off += n
	}
	src := sshlog.Source{Path: "/data/ssh-replica/SSH.log", Year: year, Loc: loc}
	collected := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 4096)
	best := time.Duration(1<<63 - 1)
	var mallocs, bytesAlloc uint64
	for pass := 0; pass < passes; pass++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		p := sshlog.NewParser(src, nil)
		for _, l := range lines {
			e := p.Parse(l.text, l.offset, collected)
			if encode {
				buf = e.AppendJSON(buf[:0])
			}
		}
		d := time.Since(start)
		runtime.ReadMemStats(&m1)
		best = min(best, d)
		mallocs, bytesAlloc = m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc
	}
	n := float64(len(lines))
	fmt.Printf("lines=%d json=%t allocs_per_line=%.4f bytes_per_line=%.1f best_ns_per_line=%.1f best_lines_per_s=%.0f gomaxprocs=%d\n",
		len(lines), encode, float64(mallocs)/n, float64(bytesAlloc)/n, float64(best.Nanoseconds())/n, n/best.Seconds(), runtime.GOMAXPROCS(0))
	return nil
}
