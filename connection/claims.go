package connection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/tokensource"
)

// Claims is the client's view of whom the connection acts as, read from the
// current token without verifying it. It is for display and diagnostics only;
// the server decides what the token is worth.
type Claims struct {
	Name    string
	OID     string
	Roles   []string
	Expiry  time.Time
	Subject string
	// All holds every claim of the token.
	All jwt.MapClaims
}

// ErrNoToken is returned by Claims on a connection without a token.
var ErrNoToken = errors.New("grpccreds: the connection has no access token")

// Claims returns the unverified claims of the current token, or an error if
// the token is not a JWT. With a refreshing source it may wait, within ctx,
// for a token to be fetched.
func (c *Connection) Claims(ctx context.Context) (*Claims, error) {
	var src tokensource.ContextTokenSource
	switch {
	case c.external != nil:
		src = c.external
	case c.engine != nil:
		src = c.engine
	default:
		return nil, ErrNoToken
	}
	tok, err := src.TokenContext(ctx)
	if err != nil {
		return nil, err
	}
	all, err := tokensource.ParseClaims(tok.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("grpccreds: the access token is not a readable JWT: %v", err)
	}
	return newClaims(all), nil
}

func newClaims(all jwt.MapClaims) *Claims {
	c := &Claims{All: all}
	c.Name, _ = all["name"].(string)
	c.OID, _ = all["oid"].(string)
	c.Subject, _ = all.GetSubject()
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
