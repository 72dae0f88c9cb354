package connection

import (
	"context"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/internal/callstate"
	"github.com/grpccreds/grpccreds/internal/engine"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// NoRetryOnUnauthenticated is a call option that keeps this one call from
// being resent when the server answers Unauthenticated. Use it for a call
// that is not idempotent and whose handler may itself answer Unauthenticated
// after doing part of its work: the resend described at
// [WithRetryOnUnauthenticated] is safe only when the refusal came from an
// authentication layer that ran before the handler.
func NoRetryOnUnauthenticated() grpc.CallOption { return noRetry{} }

type noRetry struct{ grpc.EmptyCallOption }

// retryUnauthenticated implements the resend that WithRetryOnUnauthenticated
// documents. The bearer credential records on the call which token
// generation it sent; only that generation is invalidated.
func retryUnauthenticated(eng engine.Generational, bearer *creds.Bearer) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if optedOut(opts) {
			return invoke(ctx, method, req, reply, cc, opts...)
		}
		first := callstate.Next(ctx)
		first.Owner = bearer
		err := invoke(callstate.With(ctx, first), method, req, reply, cc, opts...)
		sent := first.Sent()
		if sent == 0 || status.Code(err) != codes.Unauthenticated || ctx.Err() != nil || !eng.Invalidate(sent) {
			return err
		}
		again := callstate.Next(ctx)
		again.Owner, again.After = bearer, sent
		retryErr := invoke(callstate.With(ctx, again), method, req, reply, cc, opts...)
		if again.Sent() == 0 && ctx.Err() == nil {
			return err
		}
		return retryErr
	}
}

func optedOut(opts []grpc.CallOption) bool {
	for _, o := range opts {
		if _, ok := o.(noRetry); ok {
			return true
		}
	}
	return false
}
