package connection

import (
	"context"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/tokensource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retryUnauthenticated resends a unary call once when the server answers
// Unauthenticated, after invalidating the token generation the call was made
// with. Concurrent failures with one generation cause a single refresh; if the
// token changed meanwhile, the resend simply uses the new one. A call that
// carried its own token (creds.WithToken) is not retried.
func retryUnauthenticated(eng *tokensource.Refresher) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, own := creds.TokenOverride(ctx); own {
			return invoke(ctx, method, req, reply, cc, opts...)
		}
		gen := eng.Generation()
		err := invoke(ctx, method, req, reply, cc, opts...)
		if gen == 0 { // the call fetched the first token
			gen = eng.Generation()
		}
		if gen == 0 || status.Code(err) != codes.Unauthenticated || ctx.Err() != nil {
			return err
		}
		eng.Invalidate(gen)
		return invoke(ctx, method, req, reply, cc, opts...)
	}
}
