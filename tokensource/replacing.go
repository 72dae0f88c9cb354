package tokensource

import "context"

type replacingKey struct{}

// Replacing reports whether the fetch running on ctx is meant to replace a
// token the engine already holds: a background refresh, a refresh after
// [Refresher.Invalidate], or a fetch after the old token expired. A source
// with a cache of its own must then get a new token from the identity
// provider rather than hand back the cached one, which the engine would only
// have to refuse (see [Refreshing]). The sources of this package do so.
func Replacing(ctx context.Context) bool {
	v, _ := ctx.Value(replacingKey{}).(bool)
	return v
}

// withReplacing marks ctx as the context of a fetch that replaces a token.
func withReplacing(ctx context.Context) context.Context {
	return context.WithValue(ctx, replacingKey{}, true)
}
