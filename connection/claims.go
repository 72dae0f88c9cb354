package connection

import (
	"context"
	"errors"
	"fmt"

	"github.com/grpccreds/grpccreds/tokensource"
)

// Claims is the client's view of whom the connection acts as, read from the
// current token without verifying it. It is for display and diagnostics only;
// the server decides what the token is worth.
type Claims = tokensource.Claims

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
	return tokensource.NewClaims(all), nil
}
