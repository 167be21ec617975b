package api

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// GetStatus answers the pipeline's status as the JSON object of
// contracts.Status, the document `logmon status -json` prints.
func (s *service) GetStatus(ctx context.Context, _ *pb.GetStatusRequest) (*structpb.Struct, error) {
	if s.status == nil {
		return nil, status.Error(codes.Unimplemented, "this API runs without the status collector")
	}
	b, err := json.Marshal(s.status(ctx))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "status: %v", err)
	}
	out := &structpb.Struct{}
	if err := protojson.Unmarshal(b, out); err != nil {
		return nil, status.Errorf(codes.Internal, "status: %v", err)
	}
	return out, nil
}
