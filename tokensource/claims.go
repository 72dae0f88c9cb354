package tokensource

import (
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the identity claims of a JWT access token as Azure AD issues
// them: who (name, oid, sub), what (roles) and until when (exp). The client
// reads them unverified, for display (connection.Connection.Claims); the
// server reads them after verification (creds/jwtauth).
type Claims struct {
	Subject string
	Name    string
	OID     string
	Roles   []string
	Expiry  time.Time
	// All holds every claim. Treat it as read-only unless you own a copy
	// (Clone): it may be shared.
	All jwt.MapClaims
}

// NewClaims reads the identity claims out of all. A "roles" claim may be an
// array of strings or a single string.
func NewClaims(all jwt.MapClaims) *Claims {
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

// HasRole reports whether the claims carry role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Clone returns a deep copy of c: its Roles and All, and the arrays and
// objects nested in All, are its own, so changing it leaves c as it was.
func (c *Claims) Clone() *Claims {
	if c == nil {
		return nil
	}
	d := *c
	d.Roles = slices.Clone(c.Roles)
	if c.All != nil {
		d.All = cloneValue(map[string]any(c.All)).(map[string]any)
	}
	return &d
}

// cloneValue deep-copies the containers a decoded JSON claim can hold;
// other values are immutable or copied by assignment.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneValue(e)
		}
		return m
	case jwt.MapClaims:
		return jwt.MapClaims(cloneValue(map[string]any(v)).(map[string]any))
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneValue(e)
		}
		return s
	case []string:
		return slices.Clone(v)
	}
	return v
}
