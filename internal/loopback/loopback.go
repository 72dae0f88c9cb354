// Package loopback decides, once for the whole module, whether a host, an
// address or a dial target is on this machine, and provides the plaintext
// transport credentials whose handshake records whether a connection really
// ends here (composite.InsecureLoopback).
package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"google.golang.org/grpc/credentials"
)

// Credentials returns the transport credentials composite.InsecureLoopback
// documents.
func Credentials() credentials.TransportCredentials { return loopbackCreds{} }

// AuthInfo is the AuthInfo of a connection made with [Credentials]. Its security level is NoSecurity. Only the handshake
// can make one that vouches for a loopback destination: the zero value does
// not.
type AuthInfo struct {
	credentials.CommonAuthInfo
	verified bool
	err      error
}

// AuthType implements credentials.AuthInfo.
func (AuthInfo) AuthType() string { return "insecure-loopback" }

// Err is nil when the connection was found to end on this machine, and
// otherwise says why it was not.
func (i AuthInfo) Err() error {
	if i.err == nil && !i.verified {
		return errUnverified
	}
	return i.err
}

var errUnverified = errors.New("this AuthInfo was not made by an InsecureLoopback handshake")

type loopbackCreds struct{}

func (loopbackCreds) ClientHandshake(_ context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return conn, newInfo(destination(authority, conn.RemoteAddr())), nil
}

func (loopbackCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if !Addr(conn.RemoteAddr()) {
		conn.Close()
		return nil, nil, fmt.Errorf("composite: insecure loopback server: refusing peer %s, which is not loopback", conn.RemoteAddr())
	}
	return conn, newInfo(nil), nil
}

func (loopbackCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "insecure"}
}

func (loopbackCreds) Clone() credentials.TransportCredentials { return loopbackCreds{} }

// OverrideServerName is deprecated in gRPC and does nothing here.
func (loopbackCreds) OverrideServerName(string) error { return nil }

func newInfo(err error) AuthInfo {
	return AuthInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, verified: err == nil, err: err}
}

// destination returns nil if a connection to remote, made for authority,
// ends on this machine, and otherwise the reason it does not.
func destination(authority string, remote net.Addr) error {
	if remote == nil {
		return errors.New("the connection has no remote address")
	}
	host, port := splitAuthority(authority)
	if isUnix(remote) {
		if !Host(host) {
			return fmt.Errorf("the target host %q is not a loopback address; the connection reaches it through the Unix socket %s, a proxy or tunnel", host, remote)
		}
		return nil
	}
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("the connection goes to %s, which is not a loopback address", remote)
	}
	if !Host(host) {
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

// Host reports whether host is localhost or an IP address on 127.0.0.0/8 or
// ::1.
func Host(host string) bool {
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

// ErrNotLoopbackTransport is the reason a plaintext connection not made with
// [Credentials] cannot carry credentials.
var ErrNotLoopbackTransport = errors.New("the connection's transport credentials cannot vouch for a loopback destination (dial with composite.InsecureLoopback)")

// Addr reports whether addr is a Unix socket or an IP address on 127.0.0.0/8
// or ::1.
func Addr(addr net.Addr) bool {
	if addr == nil {
		return false
	}
	switch a := addr.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a != nil && a.IP.IsLoopback()
	}
	if addr.Network() == "unix" {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// Target reports whether a gRPC dial target names a Unix socket or a
// loopback host.
func Target(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	for _, scheme := range []string{"dns:///", "passthrough:///", "passthrough:"} {
		target = strings.TrimPrefix(target, scheme)
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		host = trimBrackets(target)
	}
	return Host(host)
}
