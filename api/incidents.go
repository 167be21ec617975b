package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/log-monitor/log_monitor/contracts"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/views"
)

func (s *service) ListIncidents(_ context.Context, req *pb.ListIncidentsRequest) (*pb.ListIncidentsResponse, error) {
	if s.incidents == nil {
		return nil, status.Error(codes.Unimplemented, "this API runs without the incidents view")
	}
	since, until := req.GetSince(), req.GetUntil()
	if req.GetDay() != "" {
		if since != "" || until != "" {
			return nil, status.Error(codes.InvalidArgument, "day: not with since or until")
		}
		d, err := time.ParseInLocation(time.DateOnly, req.GetDay(), s.loc)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "day %q: not a YYYY-MM-DD date", req.GetDay())
		}
		since, until = d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339)
	}
	f, err := incidentFilter(req.GetStatus(), req.GetSeverity(), req.GetRule(), req.GetKey(), since, until)
	if err != nil {
		return nil, err
	}
	size, err := bounded("page_size", req.GetPageSize(), defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	list, next, err := s.incidents.List(f, size, req.GetPageToken())
	if errors.Is(err, views.ErrBadPageToken) {
		return nil, status.Errorf(codes.InvalidArgument, "page_token %q: not a token this API gave", req.GetPageToken())
	}
	if err != nil {
		return nil, viewErr(err)
	}
	out := &pb.ListIncidentsResponse{NextPageToken: next, Incidents: make([]*pb.Incident, 0, len(list))}
	for i := range list {
		out.Incidents = append(out.Incidents, incidentOf(&list[i]))
	}
	return out, nil
}

func (s *service) GetIncident(_ context.Context, req *pb.GetIncidentRequest) (*pb.Incident, error) {
	if s.incidents == nil {
		return nil, status.Error(codes.Unimplemented, "this API runs without the incidents view")
	}
	if req.GetId() == "" || len(req.GetId()) > 128 {
		return nil, status.Error(codes.InvalidArgument, "id: an incident id of 1 to 128 characters")
	}
	inc, err := s.incidents.Get(req.GetId())
	if err != nil {
		return nil, viewErr(err)
	}
	if inc == nil {
		return nil, status.Errorf(codes.NotFound, "no incident %q", req.GetId())
	}
	return incidentOf(inc), nil
}

func (s *service) WatchIncidents(req *pb.WatchIncidentsRequest, stream grpc.ServerStreamingServer[pb.Incident]) error {
	if s.incidents == nil {
		return status.Error(codes.Unimplemented, "this API runs without the incidents view")
	}
	f, err := incidentFilter(req.GetStatus(), req.GetSeverity(), req.GetRule(), req.GetKey(), "", "")
	if err != nil {
		return err
	}
	if !s.incidents.Ready() {
		return viewErr(views.ErrNotReady)
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	defer context.AfterFunc(s.stopped, cancel)()
	err = s.incidents.Subscribe(ctx, f, func(inc *contracts.Incident) error { return stream.Send(incidentOf(inc)) })
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("watch incidents: %w", err)
	}
	return nil
}

// incidentFilter checks and builds a filter of the incident calls.
func incidentFilter(st, severity, rule, key, since, until string) (views.IncidentFilter, error) {
	f := views.IncidentFilter{Status: st, Severity: severity, Rule: rule, Key: key}
	if st != "" && !slices.Contains([]string{contracts.IncidentOpen, contracts.IncidentUpdated, contracts.IncidentClosed}, st) {
		return f, status.Errorf(codes.InvalidArgument, "status %q: open, updated or closed", st)
	}
	if severity != "" && contracts.SeverityRank(severity) == 0 {
		return f, status.Errorf(codes.InvalidArgument, "severity %q: low, medium, high or critical", severity)
	}
	if err := checkRule(rule); err != nil {
		return f, err
	}
	if len(key) > 255 {
		return f, status.Error(codes.InvalidArgument, "key: at most 255 characters")
	}
	var err error
	f.Since, f.Until, err = timeRange(since, until)
	return f, err
}

func incidentOf(inc *contracts.Incident) *pb.Incident {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return &pb.Incident{IncidentId: inc.ID, Key: inc.Key, KeyType: inc.KeyType, Status: inc.Status, Version: inc.Version,
		Severity: inc.Severity, Rules: inc.Rules, AlertIds: inc.AlertIDs, AlertCount: int64(inc.AlertCount),
		FailedAttempts: inc.FailedAttempts, UsersTried: inc.UsersTried, Hosts: inc.Hosts, Ips: inc.IPs,
		SuccessfulLogins: inc.SuccessfulLogins, FirstEventTime: ts(inc.FirstEventTime), LastEventTime: ts(inc.LastEventTime),
		OpenedAt: ts(inc.OpenedAt), UpdatedAt: ts(inc.UpdatedAt)}
}
