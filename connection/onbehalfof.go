package connection

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/callstate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errNoUsers fails a call made with OnBehalfOf on a connection without
// WithOnBehalfOf. gRPC would turn a call credential's FailedPrecondition into
// Internal anyway.
var errNoUsers = status.Error(codes.Internal, "connection: OnBehalfOf needs a connection made with WithOnBehalfOf")

// OnBehalfOf returns a context whose calls on this connection carry a token
// for the user whose access token is incoming, the token of the call this
// service is serving (already verified, for example by serverauth). The
// token comes from the connection's [WithOnBehalfOf] users: fetched once per
// user and shared, kept fresh while in use, and fetched when the call is
// made, within its deadline. Like [Connection.WithToken], it is bound to
// this connection (another Connection ignores it), replaces the
// connection's own token, and is not resent on Unauthenticated.
//
// A call fails with Unauthenticated if incoming is unusable or expired, or
// if the identity provider refuses the exchange; with Unavailable if it
// cannot be reached; and with Internal if the connection was made without
// WithOnBehalfOf.
func (c *Connection) OnBehalfOf(ctx context.Context, incoming string) context.Context {
	users := c.users
	return callstate.WithToken(ctx, c.bearer, callstate.Fetch(func(ctx context.Context) (string, error) {
		if users == nil {
			return "", errNoUsers
		}
		tok, err := users.Token(ctx, incoming)
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}))
}
