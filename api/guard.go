package api

import (
	"context"
	"crypto/subtle"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// open are the methods that need no token: liveness and readiness probes.
var open = map[string]bool{
	pb.LogMonitor_Health_FullMethodName: true,
	pb.LogMonitor_Ready_FullMethodName:  true,
}

// guard checks the bearer token and the per-client rate of every call, for
// gRPC clients and (through the in-process gateway connection) REST ones.
type guard struct {
	token   string
	limiter *limiter // nil: no limit
}

// authorize checks the call's bearer token when one is configured.
func (g *guard) authorize(ctx context.Context, method string) error {
	if g.token == "" || open[method] {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(g.token)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "a valid bearer token is required (Authorization: Bearer <API_TOKEN>)")
}

// client names the caller for the rate limit: the peer's address, or for a
// REST call (served in process, or for the stream over the gateway's
// in-process connection) the address the gateway saw, the last entry it
// appended to x-forwarded-for.
func client(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if ok && p.Addr != nil && p.Addr.Network() != internalNetwork {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			return host
		}
		return p.Addr.String()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if xff := md.Get("x-forwarded-for"); len(xff) > 0 {
		parts := strings.Split(xff[len(xff)-1], ",")
		return "rest:" + strings.TrimSpace(parts[len(parts)-1])
	}
	return "rest"
}

func (g *guard) check(ctx context.Context, method string) error {
	if err := g.authorize(ctx, method); err != nil {
		return err
	}
	if g.limiter != nil && !open[method] && !g.limiter.allow(client(ctx)) {
		return status.Error(codes.ResourceExhausted, "rate limit exceeded; slow down")
	}
	return nil
}

func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := g.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := g.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// limiter is a token bucket per client; buckets idle for a while are dropped.
type limiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleBucket is how long a client's bucket is kept after its last call.
const idleBucket = 3 * time.Minute

func newLimiter(perSecond float64) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{rate: rate.Limit(perSecond), burst: max(1, int(perSecond)), clients: map[string]*bucket{}, swept: time.Now()}
}

func (l *limiter) allow(who string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleBucket {
		for k, b := range l.clients {
			if now.Sub(b.seen) > idleBucket {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	b, ok := l.clients[who]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[who] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
