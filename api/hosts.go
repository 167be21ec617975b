package api

import (
	"context"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/log-monitor/log_monitor/processors/hoststage"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

func (s *service) ListHosts(context.Context, *pb.ListHostsRequest) (*pb.ListHostsResponse, error) {
	if s.hosts == nil {
		return nil, status.Error(codes.Unimplemented, "this API runs without the hosts view")
	}
	list, err := s.hosts.List()
	if err != nil {
		return nil, viewErr(err)
	}
	out := &pb.ListHostsResponse{}
	for _, h := range list {
		out.Hosts = append(out.Hosts, hostMessage(h, s.now()))
	}
	return out, nil
}

func (s *service) GetHost(_ context.Context, req *pb.GetHostRequest) (*pb.Host, error) {
	if s.hosts == nil {
		return nil, status.Error(codes.Unimplemented, "this API runs without the hosts view")
	}
	if req.GetName() == "" || len(req.GetName()) > 255 {
		return nil, status.Error(codes.InvalidArgument, "name: a host name of 1 to 255 characters")
	}
	h, err := s.hosts.Host(req.GetName())
	if err != nil {
		return nil, viewErr(err)
	}
	if h == nil {
		return nil, status.Errorf(codes.NotFound, "no sample from host %q", req.GetName())
	}
	now := s.now()
	m := hostMessage(h, now)
	for i, p := range h.Recent {
		hp := &pb.HostPoint{Time: p.Time.UTC().Format(time.RFC3339), CpuNormPct: p.CPUNorm,
			MemoryUsedPct: p.MemoryUsed, DiskMaxUsedPct: p.DiskMax, Load_1: p.Load1}
		if i > 0 {
			hp.NetInBytesPerSec, hp.NetOutBytesPerSec = netRates(h.Recent[i-1], p)
		}
		m.Recent = append(m.Recent, hp)
	}
	from := now.Add(-time.Hour)
	if len(h.Recent) > 0 && h.Recent[0].Time.Before(from) {
		from = h.Recent[0].Time
	}
	for _, a := range h.SSHMinutes(from, now) {
		m.SshMinutes = append(m.SshMinutes, &pb.HostMinute{Time: a.Minute.Format(time.RFC3339), Failed: a.Failed, Succeeded: a.Succeeded})
	}
	return m, nil
}

// netRates are the bytes per second in and out between two points; 0
// where a counter went back (an agent restart, a counter wrap).
func netRates(a, b hoststage.Point) (in, out float64) {
	secs := b.Time.Sub(a.Time).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	if b.NetIn >= a.NetIn {
		in = float64(b.NetIn-a.NetIn) / secs
	}
	if b.NetOut >= a.NetOut {
		out = float64(b.NetOut-a.NetOut) / secs
	}
	return in, out
}

// hostMessage is a host's record as the API shows it at now.
func hostMessage(h *hoststage.HostState, now time.Time) *pb.Host {
	l := &h.Latest
	m := &pb.Host{
		Name: h.Host, State: h.State, LastSample: l.Timestamp.UTC().Format(time.RFC3339),
		IntervalSeconds: l.IntervalSeconds, Cores: int64(l.CPU.Cores), CpuNormPct: l.CPU.Norm.Busy(),
		MemoryUsedPct: l.Memory.ActualUsedPct, SwapUsedPct: l.Memory.SwapUsedPct, MemoryTotal: l.Memory.Total,
		Load_1: l.Load.Load1, Load_5: l.Load.Load5, Load_15: l.Load.Load15,
		UptimeSeconds: l.UptimeSeconds, Processes: int64(l.Processes.Total),
	}
	for _, f := range l.Filesystems {
		m.Filesystems = append(m.Filesystems, &pb.HostFilesystem{MountPoint: f.MountPoint, Device: f.Device, Type: f.Type,
			Total: f.Total, Used: f.Used, UsedPct: f.UsedPct})
	}
	for _, n := range l.Network {
		m.Interfaces = append(m.Interfaces, &pb.HostInterface{Name: n.Name, InBytes: n.InBytes, OutBytes: n.OutBytes,
			InErrors: n.InErrors, OutErrors: n.OutErrors, InDropped: n.InDropped, OutDropped: n.OutDropped})
	}
	for rule, ep := range h.Episodes {
		m.Episodes = append(m.Episodes, &pb.HostEpisode{Rule: rule, Start: ep.Start.UTC().Format(time.RFC3339),
			Seq: int64(ep.Seq), LastAlert: ep.LastAlert.UTC().Format(time.RFC3339)})
	}
	ssh := h.SSHActivity(now.Add(-time.Hour), now)
	m.SshFailedLastHour, m.SshSucceededLastHour = ssh.FailedLogins, ssh.SuccessfulLogins
	for _, c := range ssh.TopSourceIPs {
		m.SshTopSourceIps = append(m.SshTopSourceIps, &pb.IPCount{Ip: c.IP, Cnt: c.Cnt})
	}
	if l.Timestamp.IsZero() {
		m.LastSample = "" // SSH activity only, no sample yet
	}
	sort.Slice(m.Episodes, func(i, j int) bool { return m.Episodes[i].Rule < m.Episodes[j].Rule })
	return m
}
