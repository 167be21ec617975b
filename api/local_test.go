package api

import (
	"context"
	"reflect"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
)

// TestLocalServesEveryUnaryCall: the gateway's in-process adapter must
// define every unary call itself; one it lacks answers REST with 501 (the
// embedded Unimplemented server) while gRPC works.
func TestLocalServesEveryUnaryCall(t *testing.T) {
	l := &local{svc: &service{}, intercept: func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
		return nil, status.Error(codes.Aborted, "reached the adapter")
	}}
	v := reflect.ValueOf(l)
	for _, m := range pb.LogMonitor_ServiceDesc.Methods {
		meth := v.MethodByName(m.MethodName)
		if !meth.IsValid() {
			t.Errorf("%s: no method", m.MethodName)
			continue
		}
		req := reflect.New(meth.Type().In(1).Elem())
		out := meth.Call([]reflect.Value{reflect.ValueOf(context.Background()), req})
		err, _ := out[1].Interface().(error)
		if status.Code(err) != codes.Aborted {
			t.Errorf("%s: %v; want the call through the adapter's interceptors (add it to local.go)", m.MethodName, err)
		}
	}
}
