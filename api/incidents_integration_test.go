package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/incidentstage"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/topics"
	"github.com/log-monitor/log_monitor/views"
)

// TestIncidentsOverAPI: alerts through the real incident stage become one
// incident that GET /v1/incidents lists (with filters and paging), GET
// /v1/incidents/{id} shows, and WatchIncidents streams when it changes.
func TestIncidentsOverAPI(t *testing.T) {
	f := newFixture(t, "it-api-incidents")
	incTopic := f.Group + "-incidents"
	if _, err := topics.Ensure(context.Background(), f.K, []topics.Spec{{Name: incTopic}}, logger); err != nil {
		t.Fatal(err)
	}
	st := incidentstage.New(incidentstage.Config{Kafka: f.K, Group: incidentstage.Group(f.Group), Alerts: f.Alerts,
		Incidents: incTopic, StorageDir: t.TempDir()}, nil, logger)
	background(t, "incident stage", st.Run)
	p := f.producer(t)
	for n := 1; n <= 3; n++ {
		p.send(t, testAlert(n, "198.51.100.9")) // one incident
	}
	p.send(t, testAlert(4, "198.51.100.10")) // another

	iv := views.NewIncidents(views.IncidentsConfig{Kafka: f.K, Topic: incTopic}, logger)
	background(t, "incidents view", iv.Run)
	f.startTrackerView(t)
	srv, err := api.New(f.config(), f.tv, f.alertsView(t, 10), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv.WithIncidents(iv)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	background(t, "api server", srv.Run)
	s := &server{grpcAddr: srv.GRPCAddr(), httpAddr: srv.HTTPAddr(), base: "http://" + srv.HTTPAddr(), http: testHTTPClient()}

	var list map[string]any
	deadline := time.Now().Add(time.Minute)
	for {
		code, m := s.rest(t, "/v1/incidents?key=198.51.100.9", "")
		if incs, _ := m["incidents"].([]any); code == http.StatusOK && len(incs) == 1 && incs[0].(map[string]any)["alert_count"] == json.Number("3") {
			list = m
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/incidents?key=...: %d %v", code, m)
		}
		time.Sleep(300 * time.Millisecond)
	}
	inc := list["incidents"].([]any)[0].(map[string]any)
	id := inc["incident_id"].(string)
	if inc["status"] != contracts.IncidentUpdated || inc["version"] != json.Number("3") || inc["key_type"] != "ip" || id != contracts.IncidentID("test-0001") {
		t.Errorf("incident: %v", inc)
	}
	if code, m := s.rest(t, "/v1/incidents/"+id, ""); code != http.StatusOK || m["incident_id"] != id {
		t.Errorf("GET /v1/incidents/%s: %d %v", id, code, m)
	}
	if code, _ := s.rest(t, "/v1/incidents/nope", ""); code != http.StatusNotFound {
		t.Errorf("GET /v1/incidents/nope: %d", code)
	}
	if code, m := s.rest(t, "/v1/incidents?page_size=1", ""); code != http.StatusOK || m["next_page_token"] == "" {
		t.Errorf("paging: %d %v", code, m)
	}
	if code, _ := s.rest(t, "/v1/incidents?status=maybe", ""); code != http.StatusBadRequest {
		t.Errorf("a bad status: %d", code)
	}

	// The REST stream (newline-delimited JSON; its headers come with its
	// first record) and the gRPC stream both get the next version: the
	// next alert of the first key.
	restCtx, restCancel := context.WithTimeout(context.Background(), time.Minute)
	defer restCancel()
	restLine := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(restCtx, http.MethodGet, s.base+"/v1/incidents:watch?key=198.51.100.9", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			restLine <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		lines := bufio.NewScanner(res.Body)
		lines.Scan()
		restLine <- fmt.Sprintf("%d %s", res.StatusCode, lines.Text())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := s.client(t).WatchIncidents(ctx, &pb.WatchIncidentsRequest{Key: "198.51.100.9"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // subscribed
	crit := testAlert(5, "198.51.100.9")
	crit.Severity = "critical"
	p.send(t, crit)
	got, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got.IncidentId != id || got.Version != 4 || got.Severity != "critical" {
		t.Errorf("watched %v, want version 4 of %s, critical", got, id)
	}
	if line := <-restLine; !strings.HasPrefix(line, "200 ") || !strings.Contains(line, `"version":"4"`) && !strings.Contains(line, `"version":4`) {
		t.Errorf("REST watch: %s", line)
	}
}
