package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/tokensource"
)

// toStatus turns a token source error into a status error for gRPC. The
// caller's own deadline or cancellation wins; otherwise the source's
// classification (see tokensource.Classify) decides.
func toStatus(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return tokensource.CallerError(ctx)
	}
	return tokensource.Classify(err)
}
