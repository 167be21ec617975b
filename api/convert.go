package api

import (
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// unixText is an event time (unix seconds) as RFC 3339 UTC ("" for none).
func unixText(t int64) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t, 0).UTC().Format(time.RFC3339)
}

// timeText formats a time as encoding/json does (the topics' documents).
func timeText(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

func ipStatusOf(ip string, r *tracker.IPRecord, rules *detect.Rules, at int64) *pb.IPStatus {
	s := r.Detect.Summary(rules, at)
	if at == 0 {
		at = s.LastSeen
	}
	out := &pb.IPStatus{
		Ip: ip, FirstSeen: unixText(s.FirstSeen), LastSeen: unixText(s.LastSeen), EvaluatedAt: unixText(at),
		Events: s.Events, Failures: s.Failures, Successes: s.Successes, InvalidUsers: s.InvalidUsers, LateEvents: s.LateEvents,
		Hosts: s.Hosts, UsersTried: s.UsersTried, InvalidUserNames: s.InvalidUserNames, SampleRowHashes: s.SampleRowHashes,
		BruteForce: s.BruteForce,
	}
	for _, w := range s.Windows {
		out.Windows = append(out.Windows, &pb.WindowCount{Rule: w.Rule, WindowSeconds: int64(w.Window / time.Second),
			Threshold: int64(w.Threshold), Count: w.Count, AtLeast: w.AtLeast})
	}
	for _, a := range s.Active {
		out.ActiveAlerts = append(out.ActiveAlerts, &pb.ActiveAlert{AlertId: a.ID(ip), Rule: a.Rule, Severity: a.Severity,
			Level: int64(a.Level), Seq: int64(a.Seq), Count: a.Count,
			EpisodeStart: unixText(a.EpisodeStart), FirstEventTime: unixText(a.FirstEventTime),
			LastAlert: unixText(a.LastAlert), LastActive: unixText(a.LastActive)})
	}
	for _, d := range r.Days {
		out.Days = append(out.Days, &pb.IPDay{MetricDate: d.Day, Events: d.Events, Failed: d.Failed})
	}
	return out
}

func ipCounts(l []contracts.IPCount) []*pb.IPCount {
	out := make([]*pb.IPCount, 0, len(l))
	for _, c := range l {
		out = append(out, &pb.IPCount{Ip: c.IP, Cnt: c.Cnt})
	}
	return out
}

func dailyOf(m contracts.DailyMetrics) *pb.DailyMetrics {
	return &pb.DailyMetrics{
		MetricDate: m.MetricDate, TotalLogs: m.TotalLogs, ErrorCount: m.ErrorCount, UniqueIps: m.UniqueIPs,
		PeakHour: int64(m.PeakHour), PeakHourLogs: m.PeakHourLogs, TopIpList: ipCounts(m.TopIPList),
		BruteForceIps: m.BruteForceIPs, TopBruteList: ipCounts(m.TopBruteList), HourlyLogs: m.HourlyLogs,
		CreatedAt: timeText(m.CreatedAt), Final: m.Final,
	}
}

func alertOf(a *contracts.Alert) *pb.Alert {
	return &pb.Alert{
		Timestamp: timeText(a.Timestamp), AlertId: a.ID, Rule: a.Rule, Severity: a.Severity,
		Level: int64(a.Level), Seq: int64(a.Seq), Ip: a.IP, User: a.User,
		Hosts: a.Hosts, Users: a.Users, Ips: a.IPs, SampleRowHashes: a.SampleRowHashes,
		Count: a.Count, WindowSeconds: a.WindowSeconds,
		WindowStart: timeText(a.WindowStart), FirstEventTime: timeText(a.FirstEventTime),
		LastEventTime: timeText(a.LastEventTime), EpisodeStart: timeText(a.EpisodeStart),
		SameUser: a.SameUser, SourceOffset: a.Offset, Message: a.Message,
	}
}
