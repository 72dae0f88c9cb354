package connection

import (
	"context"
	"errors"
	"fmt"

	"github.com/grpccreds/grpccreds/claims"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"golang.org/x/oauth2"
)

// ErrNoToken is returned by Claims on a connection without a token.
var ErrNoToken = errors.New("connection: the connection has no access token")

// Claims returns the claims of the current token, parsed without
// verification: they show whom the connection acts as, for display and
// diagnostics; the server decides what the token is worth. It fails if the
// token is not a JWT. With a refreshing source it may wait, within ctx, for a
// token to be fetched.
func (c *Connection) Claims(ctx context.Context) (claims.Claims, error) {
	if c.source == nil {
		return nil, ErrNoToken
	}
	tok, err := c.source(ctx)
	if err != nil {
		return nil, err
	}
	all, err := jwtpeek.Claims(tok.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("connection: the access token is not a readable JWT: %v", err)
	}
	return claims.Claims(all), nil
}

// tokenFunc is the connection's own token source, if it has one.
type tokenFunc func(ctx context.Context) (*oauth2.Token, error)
