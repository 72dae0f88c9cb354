package serverauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// APIKey returns a Check that admits calls whose header (e.g. "authorization"
// for a raw key as API gateways send it, or "x-api-key") holds exactly one of
// keys. Keys are compared in constant time. An empty key is never accepted,
// whether it is listed or sent: with no non-empty key, every call is refused.
func APIKey(header string, keys ...string) Check {
	header = strings.ToLower(header)
	var sums [][32]byte
	for _, k := range keys {
		if k != "" {
			sums = append(sums, sha256.Sum256([]byte(k)))
		}
	}
	return func(ctx context.Context, _ string, md metadata.MD) (context.Context, error) {
		got := md.Get(header)
		if len(got) != 1 || got[0] == "" {
			return nil, status.Errorf(codes.Unauthenticated, "missing %s API key", header)
		}
		sum := sha256.Sum256([]byte(got[0]))
		ok := 0
		for _, s := range sums {
			ok |= subtle.ConstantTimeCompare(sum[:], s[:])
		}
		if ok != 1 {
			return nil, status.Error(codes.Unauthenticated, "unknown API key")
		}
		return ctx, nil
	}
}
