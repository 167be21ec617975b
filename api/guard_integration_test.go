package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/testkit"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "logmon-api-test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTokenAndTLS: with API_TOKEN and a certificate, every call but health
// and readiness needs the bearer token, over gRPC and REST, both on TLS.
func TestTokenAndTLS(t *testing.T) {
	f := newFixture(t, "it-api-token")
	p := f.producer(t)
	p.send(t, testAlert(1, attacker))
	f.startTrackerView(t)
	av := f.alertsView(t, 0)

	const token = "s3cret-token"
	cfg := f.config()
	cfg.API.Token = token
	var trusted *x509.CertPool
	cfg.API.TLSCert, cfg.API.TLSKey, trusted = selfSigned(t, f.Dir)
	_, _, pool := selfSigned(t, t.TempDir()) // a certificate the client must not trust
	s := startServer(t, cfg, f.tv, av)
	s.tls = &tls.Config{RootCAs: trusted, MinVersion: tls.VersionTLS12}
	s.base = "https://" + s.httpAddr
	s.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tls}}
	c := s.client(t)
	ctx := testkit.Context(t, time.Minute)

	// gRPC
	if _, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without token: %v, want Unauthenticated", err)
	}
	if _, err := c.ListAlerts(withToken(ctx, "wrong"), &pb.ListAlertsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC with a wrong token: %v, want Unauthenticated", err)
	}
	if r, err := c.ListAlerts(withToken(ctx, token), &pb.ListAlertsRequest{}); err != nil || len(r.Alerts) != 1 {
		t.Errorf("gRPC with the token: %v %v", r, err)
	}
	if _, err := c.GetIPStatus(withToken(ctx, token), &pb.GetIPStatusRequest{Ip: "192.0.2.1"}); status.Code(err) != codes.NotFound {
		t.Errorf("gRPC with the token, unknown IP: %v, want NotFound", err)
	}
	st, err := c.WatchAlerts(ctx, &pb.WatchAlertsRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC stream without token: %v", err)
	}
	if _, err := c.Health(ctx, &pb.HealthRequest{}); err != nil {
		t.Errorf("gRPC health without token: %v", err)
	}
	if _, err := c.Ready(ctx, &pb.ReadyRequest{}); err != nil {
		t.Errorf("gRPC ready without token: %v", err)
	}

	// REST
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v1/alerts", "", 401}, {"/v1/alerts", "wrong", 401}, {"/v1/alerts", token, 200},
		{"/v1/ips/" + attacker, "", 401}, {"/v1/ips/192.0.2.1", token, 404},
		{"/v1/metrics/daily/today", "", 401}, {"/v1/metrics/daily/today", token, 200},
		{"/v1/alerts/watch", "", 401},
		{"/v1/health", "", 200}, {"/v1/ready", "", 200},
	} {
		code, body := s.restRaw(t, tc.path, tc.token)
		if code != tc.want {
			t.Errorf("REST %s token %q: %d %s, want %d", tc.path, tc.token, code, body, tc.want)
		}
	}

	// TLS is really on: plain HTTP and gRPC fail, an untrusted certificate fails.
	if resp, err := http.Get("http://" + s.httpAddr + "/v1/health"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
		resp.Body.Close()
	}
	plain := &server{grpcAddr: s.grpcAddr}
	if _, err := plain.client(t).Health(ctx, &pb.HealthRequest{}); err == nil {
		t.Error("plain gRPC answered on the TLS port")
	}
	untrusted := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := untrusted.Get(s.base + "/v1/health"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the certificate: %v", err)
	}
}

// TestLimits: the per-client rate limit (RESOURCE_EXHAUSTED / 429) and the
// request size limit.
func TestLimits(t *testing.T) {
	f := newFixture(t, "it-api-limits")
	f.startTrackerView(t)
	av := f.alertsView(t, 0)
	cfg := f.config()
	cfg.API.RateLimit = 5
	s := startServer(t, cfg, f.tv, av)
	c := s.client(t)
	ctx := testkit.Context(t, time.Minute)

	limited := 0
	for range 20 {
		if _, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{}); status.Code(err) == codes.ResourceExhausted {
			limited++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if limited < 10 {
		t.Errorf("gRPC: %d of 20 quick calls limited at 5/s, want at least 10", limited)
	}
	limited = 0
	for range 20 {
		if code, _ := s.restRaw(t, "/v1/alerts", ""); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 10 {
		t.Errorf("REST: %d of 20 quick calls limited at 5/s, want at least 10", limited)
	}
	if code, _ := s.restRaw(t, "/v1/health", ""); code != 200 {
		t.Errorf("health is not rate limited: %d", code)
	}
	time.Sleep(1100 * time.Millisecond) // the bucket refills
	if _, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{}); err != nil {
		t.Errorf("after a second: %v", err)
	}

	// Size: a 100 KiB request.
	big := strings.Repeat("a", 100<<10)
	if _, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: big}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC 100 KiB request: %v, want ResourceExhausted", err)
	}
	if code, _ := s.restRaw(t, "/v1/ips/"+big, ""); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("REST 100 KiB request line: %d, want 431", code)
	}
}
