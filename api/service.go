package api

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/tracker"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/views"
)

// Page and list sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
	defaultTopN     = 3 // the metrics' own lists; longer ones scan the table
	maxTopN         = 100
)

// service implements pb.LogMonitorServer over the views.
type service struct {
	pb.UnimplementedLogMonitorServer
	tracker *views.Tracker
	alerts  *views.Alerts
	hosts   *views.Hosts // nil: the host endpoints answer Unimplemented
	// incidents (nil: the incident endpoints answer Unimplemented).
	incidents *views.Incidents
	// status gathers the pipeline's health (nil: GetStatus answers Unimplemented).
	status func(context.Context) *contracts.Status
	// events searches the ssh-log index (nil: ListIPEvents answers
	// FailedPrecondition).
	events *eventSearch
	rules  *detect.Rules
	loc    *time.Location
	now    func() time.Time
	// stopped ends the open alert streams when the server stops.
	stopped context.Context
}

// viewErr maps a view's error to its gRPC status.
func viewErr(err error) error {
	if errors.Is(err, views.ErrNotReady) {
		return status.Error(codes.Unavailable, "the views are still recovering their tables; retry shortly")
	}
	return status.Errorf(codes.Internal, "%v", err)
}

func (s *service) GetIPStatus(_ context.Context, req *pb.GetIPStatusRequest) (*pb.IPStatus, error) {
	addr, err := netip.ParseAddr(req.GetIp())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "ip %q: not an IPv4 or IPv6 address", req.GetIp())
	}
	var at int64
	if req.GetAt() != "" {
		t, err := time.Parse(time.RFC3339, req.GetAt())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "at %q: not an RFC 3339 time", req.GetAt())
		}
		at = t.Unix()
	}
	// The table's key is the address as the log wrote it: the canonical
	// form first, then the form asked for.
	var rec *tracker.IPRecord
	key := addr.String()
	for _, k := range slices.Compact([]string{key, req.GetIp()}) {
		if rec, err = s.tracker.IP(k); err != nil {
			return nil, viewErr(err)
		}
		if rec != nil {
			key = k
			break
		}
	}
	if rec == nil {
		return nil, status.Errorf(codes.NotFound, "ip %s: no events from this address", req.GetIp())
	}
	return ipStatusOf(key, rec, s.rules, at), nil
}

// day resolves "today" and checks a YYYY-MM-DD date.
func (s *service) day(date string) (string, bool, error) {
	if date == "today" {
		return s.now().In(s.loc).Format(time.DateOnly), true, nil
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", false, status.Errorf(codes.InvalidArgument, "date %q: want YYYY-MM-DD or today", date)
	}
	return date, date == s.now().In(s.loc).Format(time.DateOnly), nil
}

func (s *service) GetDailyMetrics(_ context.Context, req *pb.GetDailyMetricsRequest) (*pb.DailyMetrics, error) {
	day, today, err := s.day(req.GetDate())
	if err != nil {
		return nil, err
	}
	now := s.now()
	m, ok, err := s.tracker.Document(day, s.loc, now)
	if err != nil {
		return nil, viewErr(err)
	}
	if !ok {
		if !today {
			return nil, status.Errorf(codes.NotFound, "date %s: no events that day", day)
		}
		m = tracker.Merge(day, nil, now) // today, nothing yet
	}
	return dailyOf(m), nil
}

func (s *service) ListDays(context.Context, *pb.ListDaysRequest) (*pb.ListDaysResponse, error) {
	days, err := s.tracker.Days()
	if err != nil {
		return nil, viewErr(err)
	}
	return &pb.ListDaysResponse{Days: days}, nil
}

func (s *service) GetTopIPs(_ context.Context, req *pb.GetTopIPsRequest) (*pb.TopIPs, error) {
	day, today, err := s.day(req.GetDate())
	if err != nil {
		return nil, err
	}
	n, err := bounded("limit", req.GetLimit(), defaultTopN, maxTopN)
	if err != nil {
		return nil, err
	}
	top, ok, err := s.tracker.TopIPs(day, n)
	if err != nil {
		return nil, viewErr(err)
	}
	if !ok && !today {
		return nil, status.Errorf(codes.NotFound, "date %s: no events that day", day)
	}
	return &pb.TopIPs{MetricDate: day, ByEvents: ipCounts(top.ByEvents), ByFailures: ipCounts(top.ByFailures), Complete: top.Complete || !ok}, nil
}

// bounded checks a requested count: 0 is def, above most is most.
func bounded(name string, n int32, def, most int) (int, error) {
	switch {
	case n < 0:
		return 0, status.Errorf(codes.InvalidArgument, "%s %d: must be positive", name, n)
	case n == 0:
		return def, nil
	}
	return min(int(n), most), nil
}

// filter checks the alert filters shared by ListAlerts and WatchAlerts.
func filter(rule, ip, since, until string) (views.AlertFilter, error) {
	f := views.AlertFilter{Rule: rule, IP: ip}
	if err := checkRule(rule); err != nil {
		return f, err
	}
	if ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return f, status.Errorf(codes.InvalidArgument, "ip %q: not an IPv4 or IPv6 address", ip)
		}
		f.IP = addr.String()
	}
	var err error
	f.Since, f.Until, err = timeRange(since, until)
	return f, err
}

// checkRule reports a rule name that is not one of the rules.
func checkRule(rule string) error {
	if rule != "" && !slices.Contains(contracts.RuleNames, rule) {
		return status.Errorf(codes.InvalidArgument, "rule %q: not one of %v", rule, contracts.RuleNames)
	}
	return nil
}

// timeRange parses a call's since and until (RFC 3339; empty: unbounded).
func timeRange(since, until string) (from, to time.Time, err error) {
	for _, x := range []struct {
		name, text string
		dst        *time.Time
	}{{"since", since, &from}, {"until", until, &to}} {
		if x.text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, x.text)
		if err != nil {
			return from, to, status.Errorf(codes.InvalidArgument, "%s %q: not an RFC 3339 time", x.name, x.text)
		}
		*x.dst = t
	}
	return from, to, nil
}

func (s *service) ListAlerts(_ context.Context, req *pb.ListAlertsRequest) (*pb.ListAlertsResponse, error) {
	f, err := filter(req.GetRule(), req.GetIp(), req.GetSince(), req.GetUntil())
	if err != nil {
		return nil, err
	}
	size, err := bounded("page_size", req.GetPageSize(), defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	list, next, err := s.alerts.List(f, size, req.GetPageToken())
	if errors.Is(err, views.ErrBadPageToken) {
		return nil, status.Errorf(codes.InvalidArgument, "page_token %q: not a token this API gave", req.GetPageToken())
	}
	if err != nil {
		return nil, viewErr(err)
	}
	out := &pb.ListAlertsResponse{NextPageToken: next, Alerts: make([]*pb.Alert, 0, len(list))}
	for i := range list {
		out.Alerts = append(out.Alerts, alertOf(&list[i]))
	}
	return out, nil
}

func (s *service) WatchAlerts(req *pb.WatchAlertsRequest, stream grpc.ServerStreamingServer[pb.AlertEvent]) error {
	f, err := filter(req.GetRule(), req.GetIp(), "", "")
	if err != nil {
		return err
	}
	cur, err := views.ParseCursor(req.GetCursor())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "cursor %q: not a cursor this API gave", req.GetCursor())
	}
	if !s.alerts.Ready() {
		return viewErr(views.ErrNotReady)
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	defer context.AfterFunc(s.stopped, cancel)()
	if len(cur) == 0 {
		// Tell the client where it stands at once, so that it can resume
		// from here even if no alert comes before it disconnects.
		cur = s.alerts.Now()
		if err := stream.Send(&pb.AlertEvent{Cursor: cur.String()}); err != nil {
			return err
		}
	}
	err = s.alerts.Subscribe(ctx, cur, f, func(a views.StoredAlert, c views.Cursor) error {
		return stream.Send(&pb.AlertEvent{Alert: alertOf(&a.Alert), Cursor: c.String()})
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("watch alerts: %w", err)
	}
	return nil
}

func (s *service) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Status: "SERVING"}, nil
}

func (s *service) Ready(context.Context, *pb.ReadyRequest) (*pb.ReadyResponse, error) {
	r := &pb.ReadyResponse{TrackerView: s.tracker.Ready(), AlertsView: s.alerts.Ready()}
	if !r.TrackerView || !r.AlertsView {
		return nil, status.Errorf(codes.Unavailable, "not ready: tracker view %v, alerts view %v", r.TrackerView, r.AlertsView)
	}
	return r, nil
}
