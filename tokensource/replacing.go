package tokensource

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/engine"
)

// Replacing reports whether the fetch running on ctx is meant to replace a
// token the engine already holds: a background refresh, a refresh after a
// server rejected the token, or a fetch after the old token expired. A source
// with a cache of its own must then get a new token from the identity
// provider rather than hand back the cached one, which the engine would only
// have to refuse (see [Refresher]). The sources of this package and of
// tokensource/azure do so.
func Replacing(ctx context.Context) bool { return engine.Replacing(ctx) }
