package creds

import "context"

type overrideKey struct{}

// WithToken returns a context whose calls carry token instead of the one a
// [Bearer] would fetch. The same credential writes it, so a call never carries
// two authorization headers. The token is checked when the call is made; an
// unusable one fails the call with Unauthenticated.
func WithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, overrideKey{}, token)
}

// TokenOverride returns the token WithToken set on ctx, if any.
func TokenOverride(ctx context.Context) (string, bool) {
	tok, ok := ctx.Value(overrideKey{}).(string)
	return tok, ok
}
