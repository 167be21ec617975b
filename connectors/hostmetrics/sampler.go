// Package hostmetrics samples one server's resources with gopsutil into a
// contracts.HostSample: CPU shares over the interval (total, normalised,
// per core), load, memory and swap, real filesystems, disk I/O and network
// counters, process counts and uptime.
package hostmetrics

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"

	"github.com/log-monitor/log_monitor/contracts"
)

// Sampler takes samples of this machine. CPU shares are measured between
// two calls, so it keeps the previous CPU times; it is not safe for
// concurrent use.
type Sampler struct {
	host     string
	agent    contracts.AgentInfo
	interval time.Duration
	log      *slog.Logger

	seq     int64
	prevAll cpu.TimesStat
	prevPer []cpu.TimesStat
}

// New returns a sampler of host for the agent, sampling every interval.
func New(host string, agent contracts.AgentInfo, interval time.Duration, log *slog.Logger) *Sampler {
	return &Sampler{host: host, agent: agent, interval: interval, log: log}
}

// firstWindow is what the first sample's CPU shares are measured over.
const firstWindow = 250 * time.Millisecond

// Sample takes one sample. The first call measures CPU over firstWindow,
// later calls over the time since the previous one.
func (s *Sampler) Sample(ctx context.Context) (contracts.HostSample, error) {
	if s.prevPer == nil {
		if err := s.readCPU(ctx); err != nil {
			return contracts.HostSample{}, err
		}
		select {
		case <-ctx.Done():
			return contracts.HostSample{}, ctx.Err()
		case <-time.After(firstWindow):
		}
	}
	prevAll, prevPer := s.prevAll, s.prevPer
	if err := s.readCPU(ctx); err != nil {
		return contracts.HostSample{}, err
	}
	s.seq++
	out := contracts.HostSample{Timestamp: time.Now().UTC(), HostName: s.host, Agent: s.agent,
		IntervalSeconds: s.interval.Seconds(), Seq: s.seq}
	out.CPU = cpuSample(prevAll, s.prevAll, prevPer, s.prevPer)
	if err := s.fill(ctx, &out); err != nil {
		return contracts.HostSample{}, err
	}
	return out, nil
}

func (s *Sampler) readCPU(ctx context.Context) error {
	all, err := cpu.TimesWithContext(ctx, false)
	if err != nil || len(all) == 0 {
		return fmt.Errorf("cpu times: %v", err)
	}
	per, err := cpu.TimesWithContext(ctx, true)
	if err != nil {
		return fmt.Errorf("cpu times per core: %w", err)
	}
	s.prevAll, s.prevPer = all[0], per
	return nil
}

// fill reads everything but the CPU. Memory failing is an error; the
// other metricsets are skipped with a debug log (a container may hide
// them).
func (s *Sampler) fill(ctx context.Context, out *contracts.HostSample) error {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	out.Memory = contracts.MemorySample{Total: vm.Total, Used: vm.Used, Free: vm.Free, UsedPct: frac(vm.Used, vm.Total),
		ActualUsed: vm.Total - vm.Available, ActualFree: vm.Available, ActualUsedPct: frac(vm.Total-vm.Available, vm.Total)}
	if sw, err := mem.SwapMemoryWithContext(ctx); err == nil {
		out.Memory.SwapTotal, out.Memory.SwapUsed, out.Memory.SwapFree = sw.Total, sw.Used, sw.Free
		out.Memory.SwapUsedPct = frac(sw.Used, sw.Total)
	} else {
		s.log.Debug("swap not sampled", "err", err)
	}
	if l, err := load.AvgWithContext(ctx); err == nil {
		n := float64(max(out.CPU.Cores, 1))
		out.Load = contracts.LoadSample{Load1: l.Load1, Load5: l.Load5, Load15: l.Load15,
			Norm1: l.Load1 / n, Norm5: l.Load5 / n, Norm15: l.Load15 / n, CoreCount: out.CPU.Cores}
	} else {
		s.log.Debug("load not sampled", "err", err)
	}
	if up, err := host.UptimeWithContext(ctx); err == nil {
		out.UptimeSeconds = int64(up)
	}
	if m, err := load.MiscWithContext(ctx); err == nil {
		out.Processes = contracts.ProcessSummary{Total: m.ProcsTotal, Running: m.ProcsRunning,
			Sleeping: max(m.ProcsTotal-m.ProcsRunning-m.ProcsBlocked, 0), Unknown: m.ProcsBlocked}
	}
	out.Filesystems = s.filesystems(ctx)
	if io, err := disk.IOCountersWithContext(ctx); err == nil {
		for name, c := range io {
			if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
				continue
			}
			out.DiskIO = append(out.DiskIO, contracts.DiskIOStat{Name: name, ReadCount: c.ReadCount, WriteCount: c.WriteCount,
				ReadBytes: c.ReadBytes, WriteBytes: c.WriteBytes, ReadTimeMs: c.ReadTime, WriteTimeMs: c.WriteTime, IOTimeMs: c.IoTime})
		}
		sortBy(out.DiskIO, func(d contracts.DiskIOStat) string { return d.Name })
	}
	if nics, err := net.IOCountersWithContext(ctx, true); err == nil {
		for _, c := range nics {
			out.Network = append(out.Network, contracts.NetworkStat{Name: c.Name, InBytes: c.BytesRecv, OutBytes: c.BytesSent,
				InPackets: c.PacketsRecv, OutPackets: c.PacketsSent, InErrors: c.Errin, OutErrors: c.Errout,
				InDropped: c.Dropin, OutDropped: c.Dropout})
		}
	}
	return nil
}

// filesystems are the real mounted filesystems, one per device.
func (s *Sampler) filesystems(ctx context.Context) []contracts.FilesystemStat {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil {
		s.log.Debug("filesystems not sampled", "err", err)
		return nil
	}
	var out []contracts.FilesystemStat
	seen := map[string]bool{}
	for _, p := range parts {
		if Pseudo(p.Fstype) || seen[p.Device] {
			continue
		}
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			s.log.Debug("filesystem skipped", "mount", p.Mountpoint, "err", err)
			continue
		}
		seen[p.Device] = true
		out = append(out, contracts.FilesystemStat{MountPoint: p.Mountpoint, Device: p.Device, Type: p.Fstype,
			Total: u.Total, Used: u.Used, Free: u.Free, Available: u.Free, UsedPct: frac(u.Used, u.Used+u.Free),
			Files: u.InodesTotal, FreeFiles: u.InodesFree})
	}
	sortBy(out, func(f contracts.FilesystemStat) string { return f.MountPoint })
	return out
}

// pseudo are filesystem types without storage of their own (Metricbeat's
// system.filesystem skips them too).
var pseudo = map[string]bool{
	"proc": true, "sysfs": true, "tmpfs": true, "devtmpfs": true, "devpts": true, "overlay": true, "squashfs": true,
	"cgroup": true, "cgroup2": true, "pstore": true, "bpf": true, "tracefs": true, "debugfs": true, "securityfs": true,
	"mqueue": true, "hugetlbfs": true, "configfs": true, "fusectl": true, "autofs": true, "binfmt_misc": true,
	"nsfs": true, "rpc_pipefs": true, "efivarfs": true, "ramfs": true, "fuse.lxcfs": true, "fuse.gvfsd-fuse": true,
	"fuse.portal": true, "nfsd": true, "selinuxfs": true,
}

// Pseudo reports whether a filesystem type is a pseudo filesystem.
func Pseudo(fstype string) bool { return pseudo[fstype] }

// frac is part/whole, 0 for an empty whole.
func frac(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}
