package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/log-monitor/log_monitor/api"
	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/tracker"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/views"
)

var logger = pipeline.Logger

// fixture is one test's topics and group on the real Kafka
// (testkit/pipeline), its tracker and its tracker view.
type fixture struct {
	*pipeline.Run
	tr *tracker.Tracker
	tv *views.Tracker
}

// newFixture creates the run's topics and the tracker's (the views read
// its table), without running the tracker.
func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	r := pipeline.New(t, prefix)
	return &fixture{Run: r, tr: r.Tracker(t, "a")}
}

// process runs the tracker until the test ends and waits until it has
// processed its input; it starts the tracker view and waits until ready.
func (f *fixture) process(t *testing.T, limit time.Duration) {
	t.Helper()
	start := time.Now()
	background(t, "tracker", func(ctx context.Context) error { return f.tr.Run(ctx) })
	f.WaitCaughtUp(t, limit)
	t.Logf("tracker caught up in %v", time.Since(start).Round(100*time.Millisecond))
	f.startTrackerView(t)
	time.Sleep(time.Second) // the view follows the table topic
}

// startTrackerView runs the fixture's tracker view (f.tv) and waits until
// it is ready.
func (f *fixture) startTrackerView(t *testing.T) {
	t.Helper()
	f.tv = f.trackerView(t)
	if err := f.tv.WaitReady(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) trackerView(t *testing.T) *views.Tracker {
	t.Helper()
	v, err := views.NewTracker(f.K, f.Group, filepath.Join(f.Dir, testkit.UniqueName("view")), logger)
	if err != nil {
		t.Fatal(err)
	}
	background(t, "tracker view", v.Run)
	return v
}

// alertsView runs a view of the fixture's alert topic keeping max alerts.
func (f *fixture) alertsView(t *testing.T, max int) *views.Alerts {
	t.Helper()
	v := views.NewAlerts(views.AlertsConfig{Kafka: f.K, Topic: f.Alerts, MaxAlerts: max}, logger)
	background(t, "alerts view", v.Run)
	if err := v.WaitReady(testkit.Context(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	return v
}

// config is the API configuration of a test server: free ports, no token.
func (f *fixture) config() config.Config {
	c := config.Default()
	c.Kafka = f.K
	c.API.GRPCAddr, c.API.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	c.API.RateLimit = 0
	c.ReportTZ = "Asia/Seoul"
	c.MetricsAddr = ""
	return c
}

// server is a running API server and its clients.
type server struct {
	grpcAddr, httpAddr, base string
	http                     *http.Client
	tls                      *tls.Config
}

func startServer(t *testing.T, cfg config.Config, tv *views.Tracker, av *views.Alerts) *server {
	t.Helper()
	srv, err := api.New(cfg, tv, av, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	background(t, "api server", srv.Run)
	return &server{grpcAddr: srv.GRPCAddr(), httpAddr: srv.HTTPAddr(), base: "http://" + srv.HTTPAddr(), http: testHTTPClient()}
}

// rest GETs path with the bearer token (if any) and decodes the JSON answer.
func (s *server) rest(t *testing.T, path, token string) (int, map[string]any) {
	t.Helper()
	code, body := s.restRaw(t, path, token)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v: %s", path, code, err, body)
	}
	return code, m
}

func (s *server) restRaw(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func testHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// restTry GETs path once, for polling (no test failure on a refused connection).
func restTry(s *server, path string) (int, error) {
	resp, err := s.http.Get(s.base + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// client dials the gRPC server (TLS when tlsConf is set).
func (s *server) client(t *testing.T) pb.LogMonitorClient {
	t.Helper()
	creds := insecure.NewCredentials()
	if s.tls != nil {
		creds = credentials.NewTLS(s.tls)
	}
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewLogMonitorClient(conn)
}

// withToken adds the bearer token to a gRPC call's context.
func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// background runs f until the test ends (testkit/pipeline); f must also
// return within 30 s of its context's end.
func background(t *testing.T, what string, f func(context.Context) error) (stop func()) {
	return pipeline.BackgroundStopWithin(t, what, 30*time.Second, f)
}

// producer sends alerts straight to the fixture's alert topic (as the
// tracker does: JSON, keyed by IP, the project's producer settings).
type producer struct {
	p     sarama.SyncProducer
	topic string
}

func (f *fixture) producer(t *testing.T) *producer {
	t.Helper()
	p, err := sarama.NewSyncProducer(f.K.Brokers, kafkaconfig.Sarama("logmon-api-test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &producer{p: p, topic: f.Alerts}
}

func (p *producer) send(t *testing.T, a contracts.Alert) {
	t.Helper()
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.p.SendMessage(&sarama.ProducerMessage{Topic: p.topic, Key: sarama.StringEncoder(a.Key()), Value: sarama.ByteEncoder(b)}); err != nil {
		t.Fatal(err)
	}
}

// testAlert is a well-formed alert numbered n.
func testAlert(n int, ip string) contracts.Alert {
	ts := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	return contracts.Alert{Timestamp: ts, ID: fmt.Sprintf("test-%04d", n), Rule: contracts.RuleBruteForce, Severity: "high",
		Seq: 1, IP: ip, Hosts: []string{"web1"}, Users: []string{"root"}, Count: 10 + int64(n), WindowSeconds: 300,
		WindowStart: ts.Add(-time.Minute), FirstEventTime: ts.Add(-time.Minute), LastEventTime: ts, EpisodeStart: ts,
		Offset: int64(n), Message: fmt.Sprintf("test alert %d", n)}
}

// num reads a JSON number field (failing when it is not a number).
func num(t *testing.T, m map[string]any, field string) int64 {
	t.Helper()
	n, ok := m[field].(json.Number)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON number", field, m[field], m[field])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("field %s = %s: %v", field, n, err)
	}
	return v
}
