package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/callstate"
)

// WithToken returns a context whose calls carry token instead of the one a
// [Bearer] would fetch. The same credential writes it, so a call never carries
// two authorization headers. The token is checked when the call is made; an
// unusable one fails the call with Unauthenticated.
func WithToken(ctx context.Context, token string) context.Context {
	return callstate.With(ctx, &callstate.State{Override: token, HasOverride: true})
}

// TokenOverride returns the token WithToken set on ctx, if any.
func TokenOverride(ctx context.Context) (string, bool) {
	if s := callstate.From(ctx); s != nil && s.HasOverride {
		return s.Override, true
	}
	return "", false
}
