package jwtauth

import (
	"context"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the verified claims of the caller's token.
type Claims struct {
	Subject string
	Name    string
	OID     string
	Roles   []string
	Expiry  time.Time
	// All holds every claim. Treat it as read-only: it is shared by all calls
	// that present the same token.
	All jwt.MapClaims
}

// HasRole reports whether the claims carry role.
func (c *Claims) HasRole(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type claimsKey struct{}

// ClaimsFromContext returns the verified claims of the call, if a Verifier
// admitted it.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

func newClaims(all jwt.MapClaims) *Claims {
	c := &Claims{All: all}
	c.Subject, _ = all.GetSubject()
	c.Name, _ = all["name"].(string)
	c.OID, _ = all["oid"].(string)
	if exp, err := all.GetExpirationTime(); err == nil && exp != nil {
		c.Expiry = exp.Time
	}
	switch roles := all["roles"].(type) {
	case []any:
		for _, r := range roles {
			if s, ok := r.(string); ok {
				c.Roles = append(c.Roles, s)
			}
		}
	case string:
		c.Roles = []string{roles}
	}
	return c
}
