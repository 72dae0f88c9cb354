package composite

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// Call merges several per-RPC credentials into one, asking each in order. It
// is gRPC Python's composite_call_credentials. If two of them set the same
// metadata key the call fails with Internal, naming the key, rather than
// sending it twice. The result requires transport security if any part does.
func Call(calls ...credentials.PerRPCCredentials) credentials.PerRPCCredentials {
	return calling(calls)
}

type calling []credentials.PerRPCCredentials

func (cs calling) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range cs {
		md, err := c.GetRequestMetadata(ctx, uri...)
		if err != nil {
			return nil, err
		}
		for k, v := range md {
			k = strings.ToLower(k)
			if _, dup := out[k]; dup {
				return nil, status.Errorf(codes.Internal, "composite: two call credentials set metadata key %q", k)
			}
			out[k] = v
		}
	}
	return out, nil
}

func (cs calling) RequireTransportSecurity() bool {
	for _, c := range cs {
		if c.RequireTransportSecurity() {
			return true
		}
	}
	return false
}
