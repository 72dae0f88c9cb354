package tokensource

import (
	"context"
	"time"
)

type (
	replacingKey struct{}
	clockKey     struct{}
)

// Replacing reports whether the fetch running on ctx is meant to replace a
// token the engine already holds: a background refresh, a refresh after
// [Refresher.Invalidate], or a fetch after the old token expired. A source
// with a cache of its own must then get a new token from the identity
// provider rather than hand back the cached one, which the engine would only
// have to refuse (see [Refreshing]). The sources of this package and of
// tokensource/azure do so.
func Replacing(ctx context.Context) bool {
	v, _ := ctx.Value(replacingKey{}).(bool)
	return v
}

// withReplacing marks ctx as the context of a fetch that replaces a token.
func withReplacing(ctx context.Context) context.Context {
	return context.WithValue(ctx, replacingKey{}, true)
}

// Now returns the current time on the clock of the engine whose fetch runs on
// ctx (see [WithClock]), or time.Now outside a fetch. A source in another
// package that learns a token's expiry as a wall-clock instant uses it to
// state that expiry on the engine's clock, which a test may have moved.
func Now(ctx context.Context) time.Time {
	if c, ok := ctx.Value(clockKey{}).(clock); ok {
		return c.now()
	}
	return time.Now()
}

// withClock makes c the clock Now reports on ctx.
func withClock(ctx context.Context, c clock) context.Context {
	return context.WithValue(ctx, clockKey{}, c)
}
