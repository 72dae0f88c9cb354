package creds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"google.golang.org/grpc/credentials"
)

// InsecureLoopback returns transport credentials for local development: like
// grpc-go's insecure.NewCredentials they add no TLS, but each connection's
// handshake records whether the connection really ends on this machine. Only
// then does a credential built with [AllowInsecureLoopback] send its token
// over it.
//
// A client connection counts as loopback when its authority (the target's
// host, as gRPC passes it to the handshake) is localhost, 127.0.0.0/8 or ::1,
// and the connection itself goes to a loopback address on the authority's
// port (443 when it names none), or is a Unix socket (gRPC's unix: targets
// have the authority localhost). A connection tunnelled
// through a local HTTP CONNECT proxy to a remote host therefore does not
// count: its remote address is the proxy's, but its authority is the remote
// host. Calls still flow over such a connection; only tokens are withheld.
//
// A server using these credentials refuses connections from any peer that is
// not loopback or a Unix socket.
func InsecureLoopback() credentials.TransportCredentials { return loopbackCreds{} }

// LoopbackAuthInfo is the AuthInfo of a connection made with
// [InsecureLoopback]. Its security level is NoSecurity. Only the handshake
// can make one that vouches for a loopback destination: the zero value does
// not.
type LoopbackAuthInfo struct {
	credentials.CommonAuthInfo
	verified bool
	err      error
}

// AuthType implements credentials.AuthInfo.
func (LoopbackAuthInfo) AuthType() string { return "insecure-loopback" }

// Err is nil when the connection was found to end on this machine, and
// otherwise says why it was not.
func (i LoopbackAuthInfo) Err() error {
	if i.err == nil && !i.verified {
		return errUnverified
	}
	return i.err
}

var errUnverified = errors.New("this LoopbackAuthInfo was not made by an InsecureLoopback handshake")

type loopbackCreds struct{}

func (loopbackCreds) ClientHandshake(_ context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return conn, newLoopbackInfo(destination(authority, conn.RemoteAddr())), nil
}

func (loopbackCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if !IsLoopback(conn.RemoteAddr()) {
		conn.Close()
		return nil, nil, fmt.Errorf("grpccreds: insecure loopback server: refusing peer %s, which is not loopback", conn.RemoteAddr())
	}
	return conn, newLoopbackInfo(nil), nil
}

func (loopbackCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "insecure"}
}

func (loopbackCreds) Clone() credentials.TransportCredentials { return loopbackCreds{} }

// OverrideServerName is deprecated in gRPC and does nothing here.
func (loopbackCreds) OverrideServerName(string) error { return nil }

func newLoopbackInfo(err error) LoopbackAuthInfo {
	return LoopbackAuthInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, verified: err == nil, err: err}
}

// destination returns nil if a connection to remote, made for authority,
// ends on this machine, and otherwise the reason it does not.
func destination(authority string, remote net.Addr) error {
	if remote == nil {
		return errors.New("the connection has no remote address")
	}
	host, port := splitAuthority(authority)
	if isUnix(remote) {
		if !loopbackHost(host) {
			return fmt.Errorf("the target host %q is not a loopback address; the connection reaches it through the Unix socket %s, a proxy or tunnel", host, remote)
		}
		return nil
	}
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("the connection goes to %s, which is not a loopback address", remote)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("the target host %q is not a loopback address; the connection reaches it through %s, a proxy or tunnel", host, remote)
	}
	if strconv.Itoa(int(ap.Port())) != port {
		return fmt.Errorf("the connection goes to %s, not to port %s of the target: it passes through a proxy or tunnel", remote, port)
	}
	return nil
}

func splitAuthority(authority string) (host, port string) {
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		return trimBrackets(authority), "443"
	}
	return host, port
}

func trimBrackets(s string) string {
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func isUnix(addr net.Addr) bool {
	_, ok := addr.(*net.UnixAddr)
	return ok || addr.Network() == "unix"
}

var errNotLoopbackTransport = errors.New("the connection's transport credentials cannot vouch for a loopback destination (dial with creds.InsecureLoopback)")
