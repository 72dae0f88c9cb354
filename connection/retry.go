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
// documents, for the connection's engine eng (nil if it has none) and the
// per-user tokens of OnBehalfOf. The bearer credential records on the call
// which token it sent, and from which engine; only that token is
// invalidated.
func retryUnauthenticated(eng engine.Generational, bearer *creds.Bearer) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if optedOut(opts) {
			return invoke(ctx, method, req, reply, cc, opts...)
		}
		first := callstate.Next(ctx)
		first.Owner = bearer
		err := invoke(callstate.With(ctx, first), method, req, reply, cc, opts...)
		if status.Code(err) != codes.Unauthenticated || ctx.Err() != nil {
			return err
		}
		again := callstate.Next(ctx)
		again.Owner = bearer
		if !invalidate(eng, first, again) {
			return err
		}
		retryErr := invoke(callstate.With(ctx, again), method, req, reply, cc, opts...)
		if !sent(again) && ctx.Err() == nil {
			return err
		}
		return retryErr
	}
}

// invalidate tells the engine that served first's token that the server
// rejected it, and sets up again to move past it; it reports whether a
// resend is worth it. The token is a per-user one if first fetched one,
// else the connection's own.
func invalidate(eng engine.Generational, first, again *callstate.State) bool {
	if f, ok := first.LastFetched(); ok {
		if !f.By.Invalidate(f.Gen) {
			return false
		}
		again.Past = &f
		return true
	}
	gen := first.Sent()
	if gen == 0 || eng == nil || !eng.Invalidate(gen) {
		return false
	}
	again.After = gen
	return true
}

// sent reports whether the credential sent a token on the attempt of st.
func sent(st *callstate.State) bool {
	_, fetched := st.LastFetched()
	return fetched || st.Sent() != 0
}

func optedOut(opts []grpc.CallOption) bool {
	for _, o := range opts {
		if _, ok := o.(noRetry); ok {
			return true
		}
	}
	return false
}
