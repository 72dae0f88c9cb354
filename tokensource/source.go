package tokensource

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// ContextTokenSource is an [oauth2.TokenSource] that can also honour a context,
// so a fetch can be cancelled or bounded by a deadline.
type ContextTokenSource interface {
	oauth2.TokenSource
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Func adapts a function to a [ContextTokenSource].
//
// The function must be safe for concurrent use if it is used without the
// refresh engine. Under [Refreshing] it is called by one goroutine at a time,
// except for tokens that barely outlive a fetch, for which two fetches
// overlap (see [Refresher]).
//
// Its errors reach callers as gRPC status errors. Return one yourself
// (status.Error) to choose the code, for example Unauthenticated for
// credentials the identity provider refused; any other error is quoted,
// truncated to 200 bytes, as Unavailable, so keep secrets out of it.
// oauth2.RetrieveError, network errors and timeouts are recognised and
// described without their bodies.
type Func func(ctx context.Context) (*oauth2.Token, error)

// Token calls f with a background context.
func (f Func) Token() (*oauth2.Token, error) { return f(context.Background()) }

// TokenContext calls f with ctx.
func (f Func) TokenContext(ctx context.Context) (*oauth2.Token, error) { return f(ctx) }

// detach makes src give up when the fetch context ends, whether or not src
// honours it: the call then finishes on its own goroutine and its result is
// dropped. This keeps the fetch timeout and Close effective for every source,
// including a File on a hung mount or a plain oauth2.TokenSource.
func detach(src engine.ContextSource) ContextTokenSource {
	type result struct {
		tok *oauth2.Token
		err error
	}
	return Func(func(ctx context.Context) (*oauth2.Token, error) {
		ch := make(chan result, 1)
		go func() {
			tok, err := src.TokenContext(ctx)
			ch <- result{tok, err}
		}()
		select {
		case r := <-ch:
			return r.tok, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
}
