package composite

import (
	"google.golang.org/grpc/credentials"
)

// Channel combines transport credentials with per-RPC credentials into one
// credentials.Bundle, for grpc.WithCredentialsBundle. It is gRPC Python's
// composite_channel_credentials. Several call credentials are merged as by
// [Call].
func Channel(transport credentials.TransportCredentials, calls ...credentials.PerRPCCredentials) credentials.Bundle {
	b := &bundle{transport: transport}
	switch len(calls) {
	case 0:
	case 1:
		b.call = calls[0]
	default:
		b.call = Call(calls...)
	}
	return b
}

type bundle struct {
	transport credentials.TransportCredentials
	call      credentials.PerRPCCredentials
}

func (b *bundle) TransportCredentials() credentials.TransportCredentials { return b.transport }

func (b *bundle) PerRPCCredentials() credentials.PerRPCCredentials { return b.call }

// NewWithMode returns the bundle itself: it has a single mode.
func (b *bundle) NewWithMode(string) (credentials.Bundle, error) { return b, nil }
