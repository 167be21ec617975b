package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// eventSearch finds an IP's events in Elasticsearch, the one thing the API
// does not keep itself: the raw events live in ssh-log, not in the views.
type eventSearch struct {
	es    *elasticsearch.Client
	index string
}

const (
	defaultEventLimit = 50
	maxEventLimit     = 500
	// eventSearchTimeout bounds one search: the console's panel says
	// "unreachable" rather than hang.
	eventSearchTimeout = 5 * time.Second
)

// ipEventDoc is the part of an ssh-log document ListIPEvents returns.
type ipEventDoc struct {
	EventTime string `json:"event_time"`
	HostName  string `json:"host_name"`
	EventType string `json:"event_type"`
	User      string `json:"user"`
	Port      int64  `json:"port"`
	LogLevel  string `json:"log_level"`
	Message   string `json:"message"`
	RowHash   string `json:"row_hash"`
}

func (s *service) ListIPEvents(ctx context.Context, req *pb.ListIPEventsRequest) (*pb.ListIPEventsResponse, error) {
	if s.events == nil {
		return nil, status.Error(codes.FailedPrecondition, "this API runs without Elasticsearch: no events to search")
	}
	addr, err := netip.ParseAddr(req.GetIp())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "ip %q: not an IPv4 or IPv6 address", req.GetIp())
	}
	limit, err := bounded("limit", req.GetLimit(), defaultEventLimit, maxEventLimit)
	if err != nil {
		return nil, err
	}
	return s.events.byIP(ctx, addr, limit)
}

// byIP returns the newest limit events of addr, and how many there are.
func (e *eventSearch) byIP(ctx context.Context, addr netip.Addr, limit int) (*pb.ListIPEventsResponse, error) {
	query := map[string]any{
		"size":             limit,
		"track_total_hits": 10000,
		"query":            map[string]any{"term": map[string]any{"ip": addr.String()}},
		"sort":             []any{map[string]any{"event_time": "desc"}, map[string]any{"row_hash": "asc"}},
		"_source":          []string{"event_time", "host_name", "event_type", "user", "port", "log_level", "message", "row_hash"},
	}
	body, err := json.Marshal(query)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "events query: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, eventSearchTimeout)
	defer cancel()
	res, err := e.es.Search(e.es.Search.WithContext(ctx), e.es.Search.WithIndex(e.index), e.es.Search.WithBody(bytes.NewReader(body)),
		e.es.Search.WithIgnoreUnavailable(true), e.es.Search.WithAllowNoIndices(true))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "Elasticsearch does not answer: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "Elasticsearch answer: %v", err)
	}
	if res.IsError() {
		return nil, status.Errorf(codes.Unavailable, "search %s: %s %s", e.index, res.Status(), truncate(raw, 300))
	}
	var out struct {
		Hits struct {
			Total struct {
				Value    int64  `json:"value"`
				Relation string `json:"relation"`
			} `json:"total"`
			Hits []struct {
				Source ipEventDoc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, status.Errorf(codes.Internal, "search %s: %v", e.index, err)
	}
	resp := &pb.ListIPEventsResponse{Total: out.Hits.Total.Value, TotalAtLeast: out.Hits.Total.Relation == "gte", Index: e.index,
		Events: make([]*pb.IPEvent, 0, len(out.Hits.Hits))}
	for _, h := range out.Hits.Hits {
		d := h.Source
		resp.Events = append(resp.Events, &pb.IPEvent{EventTime: d.EventTime, HostName: d.HostName, EventType: d.EventType,
			User: d.User, Port: d.Port, LogLevel: d.LogLevel, Message: d.Message, RowHash: d.RowHash})
	}
	return resp, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%s…", b[:n])
	}
	return string(b)
}
