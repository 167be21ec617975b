// Package api is log_monitor's live API: a gRPC service
// (proto/logmonitor/v1) and its REST mapping through grpc-gateway, over the
// Goka views (views.Tracker) and the alert view (views.Alerts). It reads
// nothing else.
//
// The gateway calls the service in process for the unary REST calls and
// over an in-process gRPC connection for the alert stream; both paths run
// the gRPC interceptors, so the token check, the rate limit, the metrics and
// the error mapping are the same code for gRPC and REST.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/views"
)

// Limits.
const (
	// MaxRequestBytes bounds a request: a gRPC message, a REST body, the
	// REST request line and headers.
	MaxRequestBytes = 64 << 10
	// internalNetwork is the network of the gateway's in-process connection.
	internalNetwork = "bufconn"
)

// Server serves the API until its context ends.
type Server struct {
	cfg  config.API
	log  *slog.Logger
	svc  *service
	grpc *grpc.Server
	http *http.Server
	tls  *tls.Config

	gateway     *runtime.ServeMux
	unaryI      []grpc.UnaryServerInterceptor
	streamI     []grpc.StreamServerInterceptor
	inner       *bufconn.Listener
	gln, hln    net.Listener
	listenOnce  sync.Once
	listenErr   error
	stopStreams context.CancelFunc
	// console serves every path outside /v1/ (nil: not found).
	console http.Handler
}

// New builds the server from cfg (addresses, token, TLS, rate limit,
// report time zone, rules file); reg (may be nil) gets its metrics.
func New(cfg config.Config, tr *views.Tracker, al *views.Alerts, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	if tr == nil || al == nil {
		return nil, errors.New("api: both views are required")
	}
	loc, err := cfg.ReportLocation()
	if err != nil {
		return nil, err
	}
	rules, err := detect.LoadRules(cfg.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{cfg: cfg.API, log: log, inner: bufconn.Listen(1 << 20)}
	var streamsStopped context.Context
	streamsStopped, s.stopStreams = context.WithCancel(context.Background())
	s.svc = &service{tracker: tr, alerts: al, rules: &rules, loc: loc, now: time.Now, stopped: streamsStopped}
	if cfg.API.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.API.TLSCert, cfg.API.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("api: TLS certificate %s / key %s: %w", cfg.API.TLSCert, cfg.API.TLSKey, err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	g := &guard{token: cfg.API.Token, limiter: newLimiter(cfg.API.RateLimit)}
	m := newMetrics(reg)
	s.unaryI = []grpc.UnaryServerInterceptor{m.unary, g.unary}
	s.streamI = []grpc.StreamServerInterceptor{m.stream, g.stream}
	// The TLS credentials apply to the public listener only: the gateway's
	// in-process connection is served by a second, plain gRPC server.
	s.grpc = s.newGRPC(s.creds()...)
	s.http = &http.Server{Handler: s.restHandler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: MaxRequestBytes,
		IdleTimeout: 2 * time.Minute, TLSConfig: s.tls}
	return s, nil
}

// WithHosts gives the host endpoints their view (call before Run).
func (s *Server) WithHosts(h *views.Hosts) *Server {
	s.svc.hosts = h
	return s
}

// WithIncidents gives the incident endpoints their view (call before Run).
func (s *Server) WithIncidents(v *views.Incidents) *Server {
	s.svc.incidents = v
	return s
}

// WithEvents lets ListIPEvents search index (an index, alias or pattern of
// ssh-log documents) in es (call before Run).
func (s *Server) WithEvents(es *elasticsearch.Client, index string) *Server {
	s.svc.events = &eventSearch{es: es, index: index}
	return s
}

// WithConsole serves h (the browser console) at every path the API does
// not own (call before Run).
func (s *Server) WithConsole(h http.Handler) *Server {
	s.console = h
	return s
}

// WithStatus gives GET /v1/status its source (call before Run).
func (s *Server) WithStatus(status func(context.Context) *contracts.Status) *Server {
	s.svc.status = status
	return s
}

// newGRPC is a gRPC server of the service with the limits and interceptors.
func (s *Server) newGRPC(extra ...grpc.ServerOption) *grpc.Server {
	opts := append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxRequestBytes),
		grpc.ChainUnaryInterceptor(s.unaryI...),
		grpc.ChainStreamInterceptor(s.streamI...),
	}, extra...)
	srv := grpc.NewServer(opts...)
	pb.RegisterLogMonitorServer(srv, s.svc)
	return srv
}

func (s *Server) creds() []grpc.ServerOption {
	if s.tls == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(s.tls))}
}

// restHandler is the gateway (every /v1/ path) and the OpenAPI document.
// Unary calls are served in process; the alert and incident streams go
// through the in-process gRPC connection (registered in Run).
func (s *Server) restHandler() http.Handler {
	opts := []runtime.ServeMuxOption{runtime.WithMarshalerOption(runtime.MIMEWildcard, newRESTMarshaler())}
	unaryMux, streamMux := runtime.NewServeMux(opts...), runtime.NewServeMux(opts...)
	// Registration cannot fail for a mux and a server that exist.
	_ = pb.RegisterLogMonitorHandlerServer(context.Background(), unaryMux, &local{svc: s.svc, intercept: chainUnary(s.unaryI...)})
	s.gateway = streamMux
	mux := http.NewServeMux()
	mux.Handle("/v1/", http.MaxBytesHandler(unaryMux, MaxRequestBytes))
	mux.Handle("/v1/alerts/watch", http.MaxBytesHandler(streamMux, MaxRequestBytes))
	mux.Handle("/v1/incidents:watch", http.MaxBytesHandler(streamMux, MaxRequestBytes))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(pb.OpenAPI)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.console == nil {
			http.NotFound(w, r)
			return
		}
		s.console.ServeHTTP(w, r)
	})
	return mux
}

// Listen binds the gRPC and HTTP addresses (Run calls it when needed).
func (s *Server) Listen() error {
	s.listenOnce.Do(func() {
		if s.gln, s.listenErr = net.Listen("tcp", s.cfg.GRPCAddr); s.listenErr != nil {
			s.listenErr = fmt.Errorf("api: gRPC listener %s: %w", s.cfg.GRPCAddr, s.listenErr)
			return
		}
		if s.hln, s.listenErr = net.Listen("tcp", s.cfg.HTTPAddr); s.listenErr != nil {
			s.gln.Close()
			s.listenErr = fmt.Errorf("api: HTTP listener %s: %w", s.cfg.HTTPAddr, s.listenErr)
		}
	})
	return s.listenErr
}

// GRPCAddr and HTTPAddr are the bound addresses (after Listen).
func (s *Server) GRPCAddr() string { return s.gln.Addr().String() }

// HTTPAddr is the bound REST address (after Listen).
func (s *Server) HTTPAddr() string { return s.hln.Addr().String() }

// Run serves until ctx ends, then stops: open alert streams end, requests
// in flight get up to 5 s.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	// The gateway's own connection to the service, in process.
	conn, err := grpc.NewClient("passthrough:///logmon-api",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.inner.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return fmt.Errorf("api: gateway connection: %w", err)
	}
	defer conn.Close()
	if err := pb.RegisterLogMonitorHandler(ctx, s.gateway, conn); err != nil {
		return fmt.Errorf("api: gateway: %w", err)
	}
	innerSrv := s.newGRPC()

	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	s.log.Info("API serving", "grpc", s.GRPCAddr(), "rest", scheme+"://"+s.HTTPAddr(), "openapi", scheme+"://"+s.HTTPAddr()+"/openapi.json",
		"tls", s.tls != nil, "token", s.cfg.Token != "", "rate_limit", s.cfg.RateLimit)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveGRPC(s.grpc, s.gln) })
	g.Go(func() error { return serveGRPC(innerSrv, s.inner) })
	g.Go(func() error {
		var err error
		if s.tls != nil {
			err = s.http.ServeTLS(s.hln, "", "")
		} else {
			err = s.http.Serve(s.hln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("api: REST server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopStreams()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(sctx)
		for _, srv := range []*grpc.Server{s.grpc, innerSrv} {
			stopWithin(srv, 5*time.Second)
		}
		return nil
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func serveGRPC(srv *grpc.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("api: gRPC server: %w", err)
	}
	return nil
}

// stopWithin stops srv gracefully, or at once after d.
func stopWithin(srv *grpc.Server, d time.Duration) {
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		srv.Stop()
	}
}

// statusCode is err's gRPC code name, for the metrics.
func statusCode(err error) string { return status.Code(err).String() }
