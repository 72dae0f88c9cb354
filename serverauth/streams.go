package serverauth

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errStreamExpired ends a stream whose token has expired.
var errStreamExpired = status.Error(codes.Unauthenticated, "the token this stream opened with has expired: open it again with a fresh token")

// StreamServerInterceptor returns the interceptor that verifies streams when
// they open. Unless Config.KeepStreamsPastExpiry is set, a stream then ends
// with Unauthenticated when its token's exp (plus Leeway) passes (for an
// introspected token without exp, when its answer stops being trusted,
// Introspection.MaxCacheAge after it was given): its
// context is cancelled, so a handler that watches it returns, and SendMsg
// and RecvMsg fail from then on. A handler blocked in RecvMsg sees it when
// the next message arrives or the client goes.
func (v *Verifier) StreamServerInterceptor() grpc.StreamServerInterceptor {
	admit := v.admit.StreamServerInterceptor()
	if v.cfg.KeepStreamsPastExpiry {
		return admit
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return admit(srv, ss, info, func(srv any, ss grpc.ServerStream) error {
			c, ok := ss.Context().Value(claimsKey{}).(*verified)
			if !ok {
				return handler(srv, ss) // a skipped method
			}
			end := c.expiry.Add(v.leeway)
			if c.expiry.IsZero() {
				end = c.until // an introspected token without exp: as long as the answer is trusted
			}
			ctx, cancel := context.WithTimeoutCause(ss.Context(), end.Sub(v.now()), errStreamExpired)
			defer cancel()
			err := handler(srv, &expiring{ServerStream: ss, ctx: ctx})
			if errors.Is(context.Cause(ctx), errStreamExpired) {
				return errStreamExpired
			}
			return err
		})
	}
}

// expiring is a stream that fails once its token has expired.
type expiring struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *expiring) Context() context.Context { return s.ctx }

func (s *expiring) SendMsg(m any) error {
	if err := s.expired(); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}

func (s *expiring) RecvMsg(m any) error {
	if err := s.expired(); err != nil {
		return err
	}
	err := s.ServerStream.RecvMsg(m)
	if expired := s.expired(); expired != nil {
		return expired
	}
	return err
}

func (s *expiring) expired() error {
	if errors.Is(context.Cause(s.ctx), errStreamExpired) {
		return errStreamExpired
	}
	return nil
}
