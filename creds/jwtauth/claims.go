package jwtauth

import (
	"context"

	"github.com/grpccreds/grpccreds/tokensource"
)

// Claims are the verified claims of the caller's token. They are shared by
// all calls that present the same token: treat them as read-only.
type Claims = tokensource.Claims

type claimsKey struct{}

// ClaimsFromContext returns the verified claims of the call, if a Verifier
// admitted it.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}
