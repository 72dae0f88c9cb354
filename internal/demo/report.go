package demo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Call makes one health check on conn within 5 seconds.
func Call(ctx context.Context, conn grpc.ClientConnInterface, opts ...grpc.CallOption) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
	return err
}

// Expect prints what happened and returns an error if the code is not want.
func Expect(what string, want codes.Code, err error) error {
	got := status.Code(err)
	detail := ""
	if err != nil {
		detail = ": " + status.Convert(err).Message()
	}
	fmt.Printf("%-56s -> %v%s\n", what, got, detail)
	if got != want {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}

// Run runs the steps in order and stops at the first error.
func Run(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}
