package serverauth

import (
	"context"
	"slices"
	"time"

	"github.com/grpccreds/grpccreds/claims"
)

// verified is what the verifier keeps of a token it admitted: its claims,
// shared by every call with the token and so never handed out, and what
// authorization and the cache read on every call.
type verified struct {
	claims claims.Claims
	roles  []string
	expiry time.Time
}

func newVerified(c claims.Claims) *verified {
	return &verified{claims: c, roles: c.Roles(), expiry: c.Expiry()}
}

func (v *verified) hasRole(role string) bool { return slices.Contains(v.roles, role) }

type claimsKey struct{}

// ClaimsFromContext returns the verified claims of the call, if a [Verifier]
// admitted it. Each call returns a fresh copy: change it freely, the next call
// with the same token still sees the claims as verified.
func ClaimsFromContext(ctx context.Context) (claims.Claims, bool) {
	v, ok := ctx.Value(claimsKey{}).(*verified)
	if !ok {
		return nil, false
	}
	return v.claims.Clone(), true
}
