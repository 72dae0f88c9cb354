package serverauth

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Check decides whether a call may proceed. It returns the context the
// handler should see (for example with claims added) or a status error.
// method is the full method name, e.g. "/pkg.Service/Method".
type Check func(ctx context.Context, method string, md metadata.MD) (context.Context, error)

// Validator runs a Check before every call, except for the methods it skips.
// Create it with [NewValidator]; the zero value is not usable.
type Validator struct {
	check Check
	skip  map[string]bool
	// noMD skips copying the incoming metadata for a check that reads the
	// one header it needs itself.
	noMD bool
}

// NewValidator returns a Validator that runs check on every call except the
// full method names in skip (e.g. "/grpc.health.v1.Health/Check").
func NewValidator(check Check, skip ...string) *Validator {
	v := &Validator{check: check, skip: map[string]bool{}}
	for _, m := range skip {
		v.skip[m] = true
	}
	return v
}

func (v *Validator) admit(ctx context.Context, method string) (context.Context, error) {
	if v.skip[method] {
		return ctx, nil
	}
	var md metadata.MD
	if !v.noMD {
		md, _ = metadata.FromIncomingContext(ctx)
	}
	return v.check(ctx, method, md)
}

// UnaryServerInterceptor returns the interceptor for unary calls.
func (v *Validator) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := v.admit(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns the interceptor for streams. The check runs
// once, when the stream opens.
func (v *Validator) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := v.admit(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &stream{ServerStream: ss, ctx: ctx})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }
