package creds

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/loopback"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// The opt-in trusts only what the InsecureLoopback handshake found: over a
// connection from insecure.NewCredentials even a loopback peer is refused,
// because a peer address cannot tell a local server from a local proxy.
func TestLoopbackOptInTrustsOnlyTheLoopbackHandshake(t *testing.T) {
	src := staticSource("tok")
	b := NewBearer(src, AllowInsecureLoopback())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Insecure: true})

	conn := dialWith(t, srv.Addr, insecure.NewCredentials(), b)
	err := check(context.Background(), conn)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "cannot vouch for a loopback destination") {
		t.Fatalf("insecure transport to a loopback peer: %v, want Unauthenticated naming the transport", err)
	}
	if n := src.calls.Load(); n != 0 || len(srv.Auth()) != 0 {
		t.Fatalf("the source was asked %d times and the server saw %d calls, want 0 and 0", n, len(srv.Auth()))
	}

	if err := check(context.Background(), dialWith(t, srv.Addr, loopback.Credentials(), b)); err != nil {
		t.Fatalf("InsecureLoopback to 127.0.0.1: %v", err)
	}
	if got := srv.Auth(); len(got) != 1 || got[0][0] != "Bearer tok" {
		t.Fatalf("server saw %v", got)
	}
	if b.RequireTransportSecurity() {
		t.Fatal("RequireTransportSecurity is true with the opt-in")
	}
}

// Without the opt-in, InsecureLoopback is plaintext like any other: refused
// by the credential, and by gRPC when dialling.
func TestLoopbackTransportWithoutTheOptInIsRefused(t *testing.T) {
	b := NewBearer(staticSource("tok"))
	ctx := credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{AuthInfo: verifiedInfo(t)})
	if _, err := b.GetRequestMetadata(ctx); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("plaintext without the opt-in: %v, want Unauthenticated", err)
	}
	if cc, err := grpc.NewClient("127.0.0.1:1", grpc.WithTransportCredentials(loopback.Credentials()), grpc.WithPerRPCCredentials(b)); err == nil {
		cc.Close()
		t.Fatal("gRPC accepted a credential that requires transport security over InsecureLoopback")
	}
}

// A Unix socket counts as loopback on both sides.
func TestLoopbackOverAUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	s := grpc.NewServer(grpc.Creds(loopback.Credentials()), grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		seen = append(seen, authorization(ctx))
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(lis)
	t.Cleanup(s.Stop)

	if err := check(context.Background(), dialWith(t, "unix:"+path, loopback.Credentials(), NewBearer(staticSource("tok"), AllowInsecureLoopback()))); err != nil {
		t.Fatalf("Unix socket: %v", err)
	}
	if len(seen) != 1 || seen[0] != "Bearer tok" {
		t.Fatalf("server saw %q", seen)
	}
}

// A server on InsecureLoopback credentials refuses a peer that is not local.
func TestLoopbackServerRefusesRemotePeers(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	remote := &addrConn{Conn: a, remote: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 40000}}
	if _, _, err := loopback.Credentials().ServerHandshake(remote); err == nil || !strings.Contains(err.Error(), "10.0.0.7:40000") {
		t.Fatalf("ServerHandshake from 10.0.0.7: %v, want a refusal naming the peer", err)
	}
	local := &addrConn{Conn: b, remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
	_, ai, err := loopback.Credentials().ServerHandshake(local)
	if err != nil || ai.(loopback.AuthInfo).Err() != nil || securityLevel(ai) != credentials.NoSecurity {
		t.Fatalf("ServerHandshake from 127.0.0.1: %v, %+v", err, ai)
	}
}

type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

// Only the handshake can vouch: a LoopbackAuthInfo made by hand (or by other
// transport credentials) does not.
func TestLoopbackAuthInfoZeroValueDoesNotVouch(t *testing.T) {
	b := NewBearer(staticSource("tok"), AllowInsecureLoopback())
	ctx := credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{AuthInfo: loopback.AuthInfo{}})
	if _, err := b.GetRequestMetadata(ctx); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "not made by an InsecureLoopback handshake") {
		t.Fatalf("zero LoopbackAuthInfo: %v, want Unauthenticated", err)
	}
	if loopback.Addr(nil) || loopback.Addr((*net.TCPAddr)(nil)) {
		t.Fatal("a missing address counts as loopback")
	}
}

// verifiedInfo is the AuthInfo of a handshake that found a loopback peer.
func verifiedInfo(t *testing.T) credentials.AuthInfo {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	_, ai, err := loopback.Credentials().ServerHandshake(&addrConn{Conn: a, remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}})
	if err != nil || ai.(loopback.AuthInfo).Err() != nil {
		t.Fatalf("loopback handshake: %v", err)
	}
	return ai
}
