package esindex

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// hostDoc is one Metricbeat-shaped document of a host sample.
type hostDoc struct {
	id   string
	body []byte
}

// m is a JSON object under construction.
type m = map[string]any

// hostDocs turns one system-metrics record into Metricbeat system-module
// documents, one per metricset (and per core, filesystem, device and
// interface): system.cpu, system.core, system.load, system.memory,
// system.filesystem, system.diskio, system.network,
// system.process.summary. Each _id hashes (host, @timestamp, dataset,
// name), so a sample delivered twice is one document per metricset.
func hostDocs(value []byte) ([]hostDoc, time.Time, error) {
	var s contracts.HostSample
	if err := json.Unmarshal(value, &s); err != nil {
		return nil, time.Time{}, fmt.Errorf("not a host sample: %w", err)
	}
	if s.HostName == "" || s.Timestamp.IsZero() {
		return nil, time.Time{}, fmt.Errorf("host sample without host_name or @timestamp")
	}
	b := docBuilder{s: &s}
	cpu := m{"cores": s.CPU.Cores, "total": m{"pct": s.CPU.Total.Busy(), "norm": m{"pct": s.CPU.Norm.Busy()}}}
	putShares(cpu, s.CPU.Total, s.CPU.Norm)
	b.add("system.cpu", "cpu", "", m{"cpu": cpu}, m{"cpu": m{"usage": s.CPU.Norm.Busy()}})
	for i, c := range s.CPU.PerCore {
		core := m{"id": i, "total": m{"pct": c.Busy()}}
		putShares(core, c, contracts.CPUTimes{})
		b.add("system.core", "core", fmt.Sprint(i), m{"core": core}, nil)
	}
	l := s.Load
	b.add("system.load", "load", "", m{"load": m{"1": l.Load1, "5": l.Load5, "15": l.Load15, "cores": l.CoreCount,
		"norm": m{"1": l.Norm1, "5": l.Norm5, "15": l.Norm15}}}, nil)
	mem := s.Memory
	b.add("system.memory", "memory", "", m{"memory": m{
		"total": mem.Total, "free": mem.Free, "used": m{"bytes": mem.Used, "pct": mem.UsedPct},
		"actual": m{"free": mem.ActualFree, "used": m{"bytes": mem.ActualUsed, "pct": mem.ActualUsedPct}},
		"swap":   m{"total": mem.SwapTotal, "free": mem.SwapFree, "used": m{"bytes": mem.SwapUsed, "pct": mem.SwapUsedPct}},
	}}, nil)
	for _, f := range s.Filesystems {
		b.add("system.filesystem", "filesystem", f.MountPoint, m{"filesystem": m{
			"mount_point": f.MountPoint, "device_name": f.Device, "type": f.Type, "total": f.Total, "free": f.Free,
			"available": f.Available, "used": m{"bytes": f.Used, "pct": f.UsedPct}, "files": f.Files, "free_files": f.FreeFiles,
		}}, nil)
	}
	for _, d := range s.DiskIO {
		b.add("system.diskio", "diskio", d.Name, m{"diskio": m{"name": d.Name,
			"read":  m{"count": d.ReadCount, "bytes": d.ReadBytes, "time": d.ReadTimeMs},
			"write": m{"count": d.WriteCount, "bytes": d.WriteBytes, "time": d.WriteTimeMs},
			"io":    m{"time": d.IOTimeMs}}}, nil)
	}
	for _, n := range s.Network {
		b.add("system.network", "network", n.Name, m{"network": m{"name": n.Name,
			"in":  m{"bytes": n.InBytes, "packets": n.InPackets, "errors": n.InErrors, "dropped": n.InDropped},
			"out": m{"bytes": n.OutBytes, "packets": n.OutPackets, "errors": n.OutErrors, "dropped": n.OutDropped}}}, nil)
	}
	p := s.Processes
	b.add("system.process.summary", "process_summary", "", m{"process": m{"summary": m{"total": p.Total, "running": p.Running,
		"sleeping": p.Sleeping, "stopped": p.Stopped, "zombie": p.Zombie, "idle": p.Idle, "unknown": p.Unknown}}}, nil)
	if b.err != nil {
		return nil, time.Time{}, b.err
	}
	return b.docs, s.Timestamp, nil
}

// putShares sets Metricbeat's "<state>.pct" (and "<state>.norm.pct" when
// norm has any share) fields of one CPU document.
func putShares(dst m, t, norm contracts.CPUTimes) {
	withNorm := norm != (contracts.CPUTimes{})
	for _, st := range []struct {
		name    string
		v, norm float64
	}{
		{"user", t.User, norm.User}, {"system", t.System, norm.System}, {"nice", t.Nice, norm.Nice},
		{"iowait", t.IOWait, norm.IOWait}, {"irq", t.IRQ, norm.IRQ}, {"softirq", t.SoftIRQ, norm.SoftIRQ},
		{"steal", t.Steal, norm.Steal}, {"idle", t.Idle, norm.Idle},
	} {
		f := m{"pct": st.v}
		if withNorm {
			f["norm"] = m{"pct": st.norm}
		}
		dst[st.name] = f
	}
}

// docBuilder collects one sample's documents.
type docBuilder struct {
	s    *contracts.HostSample
	docs []hostDoc
	err  error
}

// add appends the document of dataset (metricset name ms) about name
// (a core, mount point, device or interface; "" for host-wide ones) with
// system fields sys and host fields (beside host.name) hostFields.
func (b *docBuilder) add(dataset, ms, name string, sys, hostFields m) {
	if b.err != nil {
		return
	}
	s := b.s
	host := m{"name": s.HostName, "hostname": s.HostName}
	for k, v := range hostFields {
		host[k] = v
	}
	doc := m{
		"@timestamp": s.Timestamp.UTC().Format(time.RFC3339Nano),
		"event":      m{"module": "system", "dataset": dataset, "kind": "metric"},
		"metricset":  m{"name": ms, "period": int64(s.IntervalSeconds * 1000)},
		"service":    m{"type": "system"},
		"ecs":        m{"version": "8.0.0"},
		"agent":      m{"type": "logmon", "id": s.Agent.ID, "version": s.Agent.Version},
		"host":       host,
		"system":     sys,
	}
	body, err := json.Marshal(doc)
	if err != nil {
		b.err = fmt.Errorf("host document %s: %w", dataset, err)
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s", s.HostName, s.Timestamp.UnixNano(), dataset, name)
	b.docs = append(b.docs, hostDoc{id: hex.EncodeToString(h.Sum(nil)[:16]), body: body})
}
