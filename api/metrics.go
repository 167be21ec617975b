package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// metrics are the API's Prometheus series (REST calls count under their
// gRPC method: they go through the same service).
type metrics struct {
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	streams prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_api_calls_total",
			Help: "API calls by method and gRPC status code (REST calls included)."}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "logmon_api_call_seconds",
			Help:    "Time to answer a unary API call.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1}}, []string{"method"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "logmon_api_alert_streams",
			Help: "Open WatchAlerts streams."}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.latency, m.streams)
	}
	return m
}

func (m *metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	m.latency.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	m.calls.WithLabelValues(info.FullMethod, statusCode(err)).Inc()
	return resp, err
}

func (m *metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	m.streams.Inc()
	defer m.streams.Dec()
	err := h(srv, ss)
	m.calls.WithLabelValues(info.FullMethod, statusCode(err)).Inc()
	return err
}
