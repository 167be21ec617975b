package hostmetrics

import (
	"cmp"
	"slices"

	"github.com/shirou/gopsutil/v4/cpu"

	"github.com/log-monitor/log_monitor/contracts"
)

// cpuSample is the CPU metricset between two readings: Total sums to the
// core count (Metricbeat's system.cpu.*.pct), Norm to 1, PerCore each to 1.
func cpuSample(prevAll, all cpu.TimesStat, prevPer, per []cpu.TimesStat) contracts.CPUSample {
	n := len(per)
	out := contracts.CPUSample{Cores: max(n, 1)}
	out.Norm = shares(prevAll, all)
	out.Total = scale(out.Norm, float64(out.Cores))
	if len(prevPer) == n {
		for i := range per {
			out.PerCore = append(out.PerCore, shares(prevPer[i], per[i]))
		}
	}
	return out
}

// shares are each state's part of the time between two readings (0-1).
// Guest time is already counted in user time on Linux.
func shares(a, b cpu.TimesStat) contracts.CPUTimes {
	d := func(x, y float64) float64 { return max(y-x, 0) }
	t := contracts.CPUTimes{
		User: d(a.User, b.User), System: d(a.System, b.System), Nice: d(a.Nice, b.Nice), IOWait: d(a.Iowait, b.Iowait),
		IRQ: d(a.Irq, b.Irq), SoftIRQ: d(a.Softirq, b.Softirq), Steal: d(a.Steal, b.Steal), Idle: d(a.Idle, b.Idle),
	}
	total := t.User + t.System + t.Nice + t.IOWait + t.IRQ + t.SoftIRQ + t.Steal + t.Idle
	if total == 0 {
		return contracts.CPUTimes{Idle: 1}
	}
	return scale(t, 1/total)
}

func scale(t contracts.CPUTimes, f float64) contracts.CPUTimes {
	return contracts.CPUTimes{User: t.User * f, System: t.System * f, Nice: t.Nice * f, IOWait: t.IOWait * f,
		IRQ: t.IRQ * f, SoftIRQ: t.SoftIRQ * f, Steal: t.Steal * f, Idle: t.Idle * f}
}

// sortBy sorts s by the key of each element.
func sortBy[T any](s []T, key func(T) string) {
	slices.SortFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}
