package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/fetcherr"
)

// toStatus turns a token source error into a status error for gRPC. The
// caller's own deadline or cancellation wins; otherwise the error's
// classification decides (see tokensource.Func).
func toStatus(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fetcherr.CallerError(ctx)
	}
	return fetcherr.Classify(err)
}
