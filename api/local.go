package api

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// local is the service as the gateway calls it in process for the REST
// unary calls (no gRPC hop), through the same interceptors as a gRPC call:
// metrics, token, rate limit. The REST stream goes over the in-process gRPC
// connection instead (grpc-gateway cannot stream in process).
type local struct {
	pb.UnimplementedLogMonitorServer
	svc       *service
	intercept grpc.UnaryServerInterceptor
}

// chainUnary runs the interceptors in order around the handler.
func chainUnary(is ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		for i := len(is) - 1; i >= 0; i-- {
			next, in := h, is[i]
			h = func(ctx context.Context, req any) (any, error) { return in(ctx, req, info, next) }
		}
		return h(ctx, req)
	}
}

func unary[Req, Resp any](l *local, ctx context.Context, method string, req *Req, f func(context.Context, *Req) (*Resp, error)) (*Resp, error) {
	r, err := l.intercept(ctx, req, &grpc.UnaryServerInfo{Server: l.svc, FullMethod: method}, func(ctx context.Context, req any) (any, error) {
		return f(ctx, req.(*Req))
	})
	if err != nil {
		return nil, err
	}
	return r.(*Resp), nil
}

func (l *local) ListIPEvents(ctx context.Context, req *pb.ListIPEventsRequest) (*pb.ListIPEventsResponse, error) {
	return unary(l, ctx, pb.LogMonitor_ListIPEvents_FullMethodName, req, l.svc.ListIPEvents)
}

func (l *local) GetIPStatus(ctx context.Context, req *pb.GetIPStatusRequest) (*pb.IPStatus, error) {
	return unary(l, ctx, pb.LogMonitor_GetIPStatus_FullMethodName, req, l.svc.GetIPStatus)
}

func (l *local) GetDailyMetrics(ctx context.Context, req *pb.GetDailyMetricsRequest) (*pb.DailyMetrics, error) {
	return unary(l, ctx, pb.LogMonitor_GetDailyMetrics_FullMethodName, req, l.svc.GetDailyMetrics)
}

func (l *local) ListDays(ctx context.Context, req *pb.ListDaysRequest) (*pb.ListDaysResponse, error) {
	return unary(l, ctx, pb.LogMonitor_ListDays_FullMethodName, req, l.svc.ListDays)
}

func (l *local) GetTopIPs(ctx context.Context, req *pb.GetTopIPsRequest) (*pb.TopIPs, error) {
	return unary(l, ctx, pb.LogMonitor_GetTopIPs_FullMethodName, req, l.svc.GetTopIPs)
}

func (l *local) ListAlerts(ctx context.Context, req *pb.ListAlertsRequest) (*pb.ListAlertsResponse, error) {
	return unary(l, ctx, pb.LogMonitor_ListAlerts_FullMethodName, req, l.svc.ListAlerts)
}

func (l *local) Health(ctx context.Context, req *pb.HealthRequest) (*pb.HealthResponse, error) {
	return unary(l, ctx, pb.LogMonitor_Health_FullMethodName, req, l.svc.Health)
}

func (l *local) Ready(ctx context.Context, req *pb.ReadyRequest) (*pb.ReadyResponse, error) {
	return unary(l, ctx, pb.LogMonitor_Ready_FullMethodName, req, l.svc.Ready)
}

func (l *local) ListHosts(ctx context.Context, req *pb.ListHostsRequest) (*pb.ListHostsResponse, error) {
	return unary(l, ctx, pb.LogMonitor_ListHosts_FullMethodName, req, l.svc.ListHosts)
}

func (l *local) GetHost(ctx context.Context, req *pb.GetHostRequest) (*pb.Host, error) {
	return unary(l, ctx, pb.LogMonitor_GetHost_FullMethodName, req, l.svc.GetHost)
}

func (l *local) ListIncidents(ctx context.Context, req *pb.ListIncidentsRequest) (*pb.ListIncidentsResponse, error) {
	return unary(l, ctx, pb.LogMonitor_ListIncidents_FullMethodName, req, l.svc.ListIncidents)
}

func (l *local) GetIncident(ctx context.Context, req *pb.GetIncidentRequest) (*pb.Incident, error) {
	return unary(l, ctx, pb.LogMonitor_GetIncident_FullMethodName, req, l.svc.GetIncident)
}

func (l *local) GetStatus(ctx context.Context, req *pb.GetStatusRequest) (*structpb.Struct, error) {
	return unary(l, ctx, pb.LogMonitor_GetStatus_FullMethodName, req, l.svc.GetStatus)
}
