package serverauth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/claims"
)

// verified is what the verifier keeps of a token it admitted: its claims,
// shared by every call with the token and so never handed out, and what
// authorization and the cache read on every call.
type verified struct {
	claims claims.Claims
	roles  []string
	scopes []string
	expiry time.Time // the token's exp
	until  time.Time // how long the check may be trusted: exp, or sooner
}

func newVerified(c claims.Claims) *verified {
	exp := c.Expiry()
	return &verified{claims: c, roles: c.Roles(), scopes: scopes(c), expiry: exp, until: exp}
}

func (v *verified) hasRole(role string) bool   { return slices.Contains(v.roles, role) }
func (v *verified) hasScope(scope string) bool { return slices.Contains(v.scopes, scope) }

// scopes returns the scopes a token grants: the space-delimited "scp"
// (Azure AD) or "scope" (RFC 8693, RFC 9068, RFC 7662), or the array
// "scopes"; any of the three may also be an array of strings.
func scopes(c claims.Claims) []string {
	var out []string
	for _, name := range []string{"scp", "scope", "scopes"} {
		switch v := c[name].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

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
