package contracts

import "time"

// HostSample is one resource sample of one server, the JSON value of the
// system-metrics topic (key: HostName). `logmon agent` takes one every
// interval; the Elasticsearch sink turns it into Metricbeat-shaped
// documents, one per metricset (docs/contracts.md, "system-metrics").
//
// Fractions ("Pct") are 0-1 as in Metricbeat. Counters (bytes, packets,
// operations) are the kernel's totals since boot, as Metricbeat sends
// them; rates are derived downstream from two samples.
type HostSample struct {
	Timestamp time.Time `json:"@timestamp"`
	HostName  string    `json:"host_name"`
	// Agent identifies the sampling agent (its instance id and version).
	Agent AgentInfo `json:"agent"`
	// IntervalSeconds is the agent's sampling interval: host_silent counts
	// missing samples in intervals.
	IntervalSeconds float64 `json:"interval_seconds"`
	// Seq numbers the agent's samples from 1 (a restart starts again at 1
	// under a new agent id): consumers see gaps and repeats.
	Seq           int64            `json:"seq"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	CPU           CPUSample        `json:"cpu"`
	Load          LoadSample       `json:"load"`
	Memory        MemorySample     `json:"memory"`
	Filesystems   []FilesystemStat `json:"filesystems,omitempty"`
	DiskIO        []DiskIOStat     `json:"diskio,omitempty"`
	Network       []NetworkStat    `json:"network,omitempty"`
	Processes     ProcessSummary   `json:"processes"`
}

// AgentInfo names the agent that took a sample.
type AgentInfo struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// CPUTimes are shares of CPU time over the interval before the sample: for
// the total they sum to Cores (Metricbeat's system.cpu.*.pct), per core and
// normalised to 1.
type CPUTimes struct {
	User    float64 `json:"user"`
	System  float64 `json:"system"`
	Nice    float64 `json:"nice"`
	IOWait  float64 `json:"iowait"`
	IRQ     float64 `json:"irq"`
	SoftIRQ float64 `json:"softirq"`
	Steal   float64 `json:"steal"`
	Idle    float64 `json:"idle"`
}

// Busy is the share not idle and not waiting on I/O (Metricbeat's total).
func (c CPUTimes) Busy() float64 {
	return c.User + c.System + c.Nice + c.IRQ + c.SoftIRQ + c.Steal
}

// CPUSample is the CPU metricset: Total sums the cores (0..Cores), Norm is
// Total divided by Cores (0..1), PerCore has one entry per logical CPU.
type CPUSample struct {
	Cores   int        `json:"cores"`
	Total   CPUTimes   `json:"total"`
	Norm    CPUTimes   `json:"norm"`
	PerCore []CPUTimes `json:"per_core,omitempty"`
}

// LoadSample is the load average, raw and divided by the core count.
type LoadSample struct {
	Load1     float64 `json:"1"`
	Load5     float64 `json:"5"`
	Load15    float64 `json:"15"`
	Norm1     float64 `json:"norm_1"`
	Norm5     float64 `json:"norm_5"`
	Norm15    float64 `json:"norm_15"`
	CoreCount int     `json:"cores"`
}

// MemorySample: Used counts page cache as used, ActualUsed does not
// (Metricbeat's system.memory.actual.used): the memory rule reads
// ActualUsedPct.
type MemorySample struct {
	Total         uint64  `json:"total"`
	Used          uint64  `json:"used"`
	Free          uint64  `json:"free"`
	UsedPct       float64 `json:"used_pct"`
	ActualUsed    uint64  `json:"actual_used"`
	ActualFree    uint64  `json:"actual_free"`
	ActualUsedPct float64 `json:"actual_used_pct"`
	SwapTotal     uint64  `json:"swap_total"`
	SwapUsed      uint64  `json:"swap_used"`
	SwapFree      uint64  `json:"swap_free"`
	SwapUsedPct   float64 `json:"swap_used_pct"`
}

// FilesystemStat is one mounted real filesystem (pseudo filesystems such
// as proc, sysfs, tmpfs and overlay are not sampled).
type FilesystemStat struct {
	MountPoint string  `json:"mount_point"`
	Device     string  `json:"device_name"`
	Type       string  `json:"type"`
	Total      uint64  `json:"total"`
	Used       uint64  `json:"used"`
	Free       uint64  `json:"free"`
	Available  uint64  `json:"available"`
	UsedPct    float64 `json:"used_pct"`
	Files      uint64  `json:"files"`
	FreeFiles  uint64  `json:"free_files"`
}

// DiskIOStat is one block device's counters since boot.
type DiskIOStat struct {
	Name        string `json:"name"`
	ReadCount   uint64 `json:"read_count"`
	WriteCount  uint64 `json:"write_count"`
	ReadBytes   uint64 `json:"read_bytes"`
	WriteBytes  uint64 `json:"write_bytes"`
	ReadTimeMs  uint64 `json:"read_time_ms"`
	WriteTimeMs uint64 `json:"write_time_ms"`
	IOTimeMs    uint64 `json:"io_time_ms"`
}

// NetworkStat is one interface's counters since boot.
type NetworkStat struct {
	Name       string `json:"name"`
	InBytes    uint64 `json:"in_bytes"`
	OutBytes   uint64 `json:"out_bytes"`
	InPackets  uint64 `json:"in_packets"`
	OutPackets uint64 `json:"out_packets"`
	InErrors   uint64 `json:"in_errors"`
	OutErrors  uint64 `json:"out_errors"`
	InDropped  uint64 `json:"in_dropped"`
	OutDropped uint64 `json:"out_dropped"`
}

// ProcessSummary counts processes by state (Metricbeat's
// system.process.summary).
type ProcessSummary struct {
	Total    int `json:"total"`
	Running  int `json:"running"`
	Sleeping int `json:"sleeping"`
	Stopped  int `json:"stopped"`
	Zombie   int `json:"zombie"`
	Idle     int `json:"idle"`
	Unknown  int `json:"unknown"`
}

// MaxFilesystemUsedPct is the fullest filesystem's used fraction and its
// mount point ("" and 0 without filesystems): host_disk_full reads it.
func (s *HostSample) MaxFilesystemUsedPct() (mount string, pct float64) {
	for _, f := range s.Filesystems {
		if f.UsedPct > pct || mount == "" {
			mount, pct = f.MountPoint, f.UsedPct
		}
	}
	return mount, pct
}
