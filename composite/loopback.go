package composite

import (
	"github.com/grpccreds/grpccreds/internal/loopback"
	"google.golang.org/grpc/credentials"
)

// InsecureLoopback returns transport credentials for local development: like
// grpc-go's insecure.NewCredentials they add no TLS, but each connection's
// handshake records whether the connection really ends on this machine. Only
// then does a credential of package creds built with
// creds.AllowInsecureLoopback send its token over it.
//
// A client connection counts as loopback when its authority (the target's
// host, as gRPC passes it to the handshake) is localhost, 127.0.0.0/8 or ::1,
// and the connection itself goes to a loopback address on the authority's
// port (443 when it names none), or is a Unix socket (gRPC's unix: targets
// have the authority localhost). A connection tunnelled through a local HTTP
// CONNECT proxy to a remote host therefore does not count: its remote address
// is the proxy's, but its authority is the remote host. Calls still flow over
// such a connection; only credentials are withheld.
//
// A server using these credentials refuses connections from any peer that is
// not loopback or a Unix socket.
func InsecureLoopback() credentials.TransportCredentials { return loopback.Credentials() }
