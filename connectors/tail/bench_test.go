package tail

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const replicaPath = "/work/shared/data/ssh-replica/SSH.log.gz"

// BenchmarkTailReplica measures lines/s through Run + Ack on the decompressed
// 655,147-line replica (written to a temp file once), with default chunking
// and back-pressure, from a fresh registry each round. lines/s is wall time
// from Run's start to the last chunk; lines/cpu-s divides by the process's
// CPU time instead (steadier on a shared machine). ns/op also includes New
// and Run's final registry write (fsync).
func BenchmarkTailReplica(b *testing.B) {
	in, err := os.Open(replicaPath)
	if err != nil {
		b.Skipf("replica not available: %v", err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "ssh-replica.log")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	size, err := io.Copy(out, zr)
	if err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()

	var lines, rounds int64
	var elapsed, cpu time.Duration
	round := 0
	for b.Loop() {
		round++
		cfg := Config{
			Globs:        []string{path},
			RegistryPath: filepath.Join(dir, "registry-"+strconv.Itoa(round)+".json"),
			FromStart:    true,
			PollInterval: 10 * time.Millisecond,
		}
		tl, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan *Chunk, cfg.MaxInflight)
		done := make(chan error, 1)
		start, cpu0 := time.Now(), cpuTime()
		go func() { done <- tl.Run(ctx, ch) }()
		var got, bytes int64
		for bytes < size {
			c := <-ch
			got += int64(len(c.Lines))
			bytes += c.End - c.Start
			tl.Ack(c)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		lines += got
		rounds++
	}
	if lines != rounds*655147 {
		b.Fatalf("%d lines in %d rounds", lines, rounds)
	}
	b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(lines)/cpu.Seconds(), "lines/cpu-s")
}

// cpuTime is the process's user + system CPU time (0 where unavailable).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
