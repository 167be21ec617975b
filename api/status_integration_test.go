package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/connectors/health"
	"github.com/log-monitor/log_monitor/contracts"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// TestStatusOverRESTAndGRPC: GET /v1/status and GetStatus answer the
// collector's status of the real cluster, the same document both ways.
func TestStatusOverRESTAndGRPC(t *testing.T) {
	f := newFixture(t, "it-api-status")
	c, err := health.NewCollector(health.Config{Kafka: f.K, Groups: []string{f.Group}, HeartbeatsTopic: f.Group + "-heartbeats",
		AlertsTopic: f.Alerts}, logger)
	if err != nil {
		t.Fatal(err)
	}
	f.startTrackerView(t)
	srv, err := api.New(f.config(), f.tv, f.alertsView(t, 10), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv.WithStatus(func(ctx context.Context) *contracts.Status { return c.Collect(ctx) })
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	background(t, "api server", srv.Run)
	s := &server{grpcAddr: srv.GRPCAddr(), httpAddr: srv.HTTPAddr(), base: "http://" + srv.HTTPAddr(), http: testHTTPClient()}
	code, m := s.rest(t, "/v1/status", "")
	kafka, _ := m["kafka"].(map[string]any)
	if code != http.StatusOK || kafka == nil || num(t, kafka, "brokers_up") != 3 || m["healthy"] == nil {
		t.Fatalf("GET /v1/status: %d %v", code, m)
	}
	st, err := s.client(t).GetStatus(context.Background(), &pb.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if up := st.GetFields()["kafka"].GetStructValue().GetFields()["brokers_up"].GetNumberValue(); up != 3 {
		t.Fatalf("GetStatus: brokers_up %v in %v", up, st)
	}
}
