package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/loopback"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

var errInsecure = status.Error(codes.Unauthenticated,
	"creds: refusing to send credentials over a connection without privacy and integrity (use TLS, or AllowInsecureLoopback with composite.InsecureLoopback transport credentials for a local server)")

// checkTransport allows a call whose connection has privacy and integrity,
// or, when allowLoopback is set, a plaintext connection whose handshake
// (composite.InsecureLoopback) found that it ends on this machine. The peer address
// alone proves nothing: through a local proxy it is the proxy's. Unlike
// credentials.CheckSecurityLevel it refuses connections that report no
// security level at all.
func checkTransport(ctx context.Context, allowLoopback bool) error {
	ri, _ := credentials.RequestInfoFromContext(ctx)
	if securityLevel(ri.AuthInfo) == credentials.PrivacyAndIntegrity {
		return nil
	}
	if !allowLoopback {
		return errInsecure
	}
	return loopbackOnly(ri.AuthInfo)
}

func loopbackOnly(ai credentials.AuthInfo) error {
	err := loopback.ErrNotLoopbackTransport
	if li, ok := ai.(loopback.AuthInfo); ok {
		err = li.Err()
	}
	if err == nil {
		return nil
	}
	return status.Errorf(codes.Unauthenticated, "creds: refusing to send credentials in plaintext: %v", err)
}

type commonAuthInfo interface {
	GetCommonAuthInfo() credentials.CommonAuthInfo
}

func securityLevel(ai credentials.AuthInfo) credentials.SecurityLevel {
	if c, ok := ai.(commonAuthInfo); ok {
		return c.GetCommonAuthInfo().SecurityLevel
	}
	return credentials.InvalidSecurityLevel
}
