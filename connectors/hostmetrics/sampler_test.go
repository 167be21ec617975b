package hostmetrics_test

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/hostmetrics"
	"github.com/log-monitor/log_monitor/contracts"
)

var quiet = slog.New(slog.DiscardHandler)

// memTotal is MemTotal of /proc/meminfo, in bytes.
func memTotal(t *testing.T) uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skip("no /proc/meminfo")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(fs[1], 10, 64)
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

func TestSampleAgreesWithProc(t *testing.T) {
	s := hostmetrics.New("test-host", contracts.AgentInfo{ID: "a", Version: "test"}, time.Second, quiet)
	ctx := context.Background()
	first, err := s.Sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || first.HostName != "test-host" || first.IntervalSeconds != 1 {
		t.Fatalf("first sample: seq %d host %q interval %v", first.Seq, first.HostName, first.IntervalSeconds)
	}
	if got, want := first.Memory.Total, memTotal(t); got != want {
		t.Errorf("memory total %d, /proc/meminfo says %d", got, want)
	}
	if p := first.Memory.ActualUsedPct; p <= 0 || p >= 1 {
		t.Errorf("memory in use %v, want between 0 and 1", p)
	}
	if first.CPU.Cores != runtime.NumCPU() || len(first.CPU.PerCore) != first.CPU.Cores {
		t.Errorf("cores %d (%d per-core entries), runtime says %d", first.CPU.Cores, len(first.CPU.PerCore), runtime.NumCPU())
	}
	// Every real filesystem's size agrees with statfs of its mount point.
	if len(first.Filesystems) == 0 {
		t.Fatal("no filesystem sampled")
	}
	for _, f := range first.Filesystems {
		var st syscall.Statfs_t
		if err := syscall.Statfs(f.MountPoint, &st); err != nil {
			t.Fatal(err)
		}
		if want := st.Blocks * uint64(st.Bsize); f.Total != want {
			t.Errorf("%s: total %d, statfs says %d", f.MountPoint, f.Total, want)
		}
		if f.UsedPct < 0 || f.UsedPct > 1 || hostmetrics.Pseudo(f.Type) {
			t.Errorf("%s: used %v, type %s", f.MountPoint, f.UsedPct, f.Type)
		}
	}

	// A busy loop on every core for the whole interval: the normalised
	// busy share is high (the machine is shared: a generous tolerance).
	var stop atomic.Bool
	for range runtime.NumCPU() {
		go func() {
			for !stop.Load() {
			}
		}()
	}
	time.Sleep(time.Second)
	busy, err := s.Sample(ctx)
	stop.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	if busy.Seq != 2 {
		t.Errorf("second sample seq %d", busy.Seq)
	}
	n := busy.CPU.Norm
	if b := n.Busy(); b < 0.7 {
		t.Errorf("normalised busy %.2f under a busy loop on every core, want >= 0.7", b)
	}
	sum := n.Busy() + n.IOWait + n.Idle
	if sum < 0.99 || sum > 1.01 {
		t.Errorf("normalised shares sum to %.3f", sum)
	}
	if tot := busy.CPU.Total.Busy() + busy.CPU.Total.IOWait + busy.CPU.Total.Idle; tot < float64(busy.CPU.Cores)-0.01 || tot > float64(busy.CPU.Cores)+0.01 {
		t.Errorf("total shares sum to %.3f for %d cores", tot, busy.CPU.Cores)
	}
}
