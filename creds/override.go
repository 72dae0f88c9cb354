package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/callstate"
)

// WithToken returns a context whose calls through this Bearer carry token
// instead of the one it would fetch. The token is bound to b: another Bearer,
// on another connection, ignores it, so a service that forwards one incoming
// context to several downstream services sends a user's token only where it
// was meant to go. b writes the token itself, so a call never carries two
// authorization headers, and it still checks the connection's security
// first. The token is checked when the call is made; an unusable one fails
// the call with Unauthenticated. A call that carries its own token is never
// resent by a connection's retry on Unauthenticated.
func (b *Bearer) WithToken(ctx context.Context, token string) context.Context {
	return callstate.WithToken(ctx, b, token)
}
