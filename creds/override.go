package creds

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grpccreds/grpccreds/internal/callstate"
)

// WithToken returns a context whose calls through this Bearer carry token
// instead of the one it would fetch. The token is bound to b: another Bearer,
// on another connection, ignores it, so a service that forwards one incoming
// context to several downstream services sends a user's token only where it
// was meant to go. b writes the token itself, so a call never carries two
// authorization headers, and it still checks the connection's security
// first. The token is checked when the call is made; an unusable one fails
// the call with Unauthenticated. A call that carries its own token is never
// resent by a connection's retry on Unauthenticated.
//
// The token is bound to b, not to a connection: a Bearer shared by several
// connections sends it on each. It is checked only for what a header value
// may hold (no expiry or JWT checks, unlike tokensource.External).
func (b *Bearer) WithToken(ctx context.Context, token string) context.Context {
	md, err := b.metadata(token)
	return callstate.WithToken(ctx, b, perCall{md: md, err: err})
}

// perCall is a per-call token's metadata, built once when it is set.
type perCall struct {
	md  map[string]string
	err error
}

// own returns the metadata of a per-call token: one the caller set, or one
// fetched now for the call (callstate.Fetch).
func (b *Bearer) own(ctx context.Context, own any) (map[string]string, error) {
	switch v := own.(type) {
	case perCall:
		return v.md, v.err
	case callstate.Fetch:
		return b.fetch(ctx, v)
	}
	return nil, status.Errorf(codes.Internal, "creds: unknown per-call token %T", own)
}

// fetch returns the metadata of a token fetched for the call, and records on
// the call which token it sent, so that a connection resending the call on
// Unauthenticated invalidates exactly that one.
func (b *Bearer) fetch(ctx context.Context, f callstate.Fetch) (map[string]string, error) {
	st := callstate.From(ctx).For(b)
	var past *callstate.Fetched
	if st != nil {
		past = st.Past
	}
	tok, sent, err := f(ctx, past)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	md, err := b.metadata(tok)
	if err == nil && st != nil && sent.By != nil {
		st.RecordFetched(sent)
	}
	return md, err
}
