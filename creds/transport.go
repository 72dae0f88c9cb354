package creds

import (
	"context"
	"net"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

var errInsecure = status.Error(codes.Unauthenticated,
	"grpccreds: refusing to send credentials over a connection without privacy and integrity (use TLS, or AllowInsecureLoopback for a loopback peer)")

// checkTransport allows a call whose connection has privacy and integrity,
// or, when allowLoopback is set, a plaintext call to a loopback peer. Unlike
// credentials.CheckSecurityLevel it refuses connections that report no
// security level at all.
func checkTransport(ctx context.Context, allowLoopback bool) error {
	ri, _ := credentials.RequestInfoFromContext(ctx)
	if securityLevel(ri.AuthInfo) == credentials.PrivacyAndIntegrity {
		return nil
	}
	if allowLoopback && loopbackPeer(ctx) {
		return nil
	}
	return errInsecure
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

func loopbackPeer(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return false
	}
	return IsLoopback(p.Addr)
}

// IsLoopback reports whether addr is a Unix socket or an IP address on
// 127.0.0.0/8 or ::1.
func IsLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	if addr.Network() == "unix" {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
