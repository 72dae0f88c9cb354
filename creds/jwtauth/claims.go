package jwtauth

import (
	"context"

	"github.com/grpccreds/grpccreds/tokensource"
)

// Claims are the verified claims of the caller's token. [ClaimsFromContext]
// and [Verifier.Verify] return a copy: change it freely, the next call with
// the same token still sees the claims as verified.
type Claims = tokensource.Claims

type claimsKey struct{}

// ClaimsFromContext returns a copy of the verified claims of the call, if a
// Verifier admitted it. Each call makes a fresh copy; change it freely.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c.Clone(), ok
}
