package connection

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/callstate"
	"github.com/grpccreds/grpccreds/internal/engine"
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
// this connection (another Connection ignores it) and replaces the
// connection's own token.
//
// A unary call the downstream service answers with Unauthenticated tells
// that user's engine its token was rejected, and is resent once with a new
// one, on the terms of [WithRetryOnUnauthenticated] (rate-limited by that
// user's engine, at most once, never a stream); the other users' tokens are
// untouched. Mark a call [NoRetryOnUnauthenticated] to keep it from being
// resent, or turn the resend off for the connection with
// WithRetryOnUnauthenticated(false); a rejected token is then used until it
// expires. The rate limit is each user's: a downstream service that rejects
// every token costs each new user two exchanges rather than one.
//
// A call fails with Unauthenticated if incoming is unusable or expired, or
// if the identity provider refuses the exchange; with Unavailable if it
// cannot be reached; and with Internal if the connection was made without
// WithOnBehalfOf.
func (c *Connection) OnBehalfOf(ctx context.Context, incoming string) context.Context {
	users := c.users
	return callstate.WithToken(ctx, c.bearer, callstate.Fetch(func(ctx context.Context, past *callstate.Fetched) (string, callstate.Fetched, error) {
		if users == nil {
			return "", callstate.Fetched{}, errNoUsers
		}
		var from engine.Generational
		var after uint64
		if past != nil {
			from, _ = past.By.(engine.Generational)
			after = past.Gen
		}
		tok, by, gen, err := engine.UserToken(ctx, users, incoming, from, after)
		if err != nil {
			return "", callstate.Fetched{}, err
		}
		return tok.AccessToken, callstate.Fetched{Gen: gen, By: by}, nil
	}))
}
