package creds

import (
	"context"
	"crypto/x509"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingSource counts calls and serves a fixed token.
type countingSource struct {
	calls atomic.Int64
	tok   *oauth2.Token
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.calls.Add(1)
	return s.tok, nil
}

func staticSource(tok string) *countingSource {
	return &countingSource{tok: &oauth2.Token{AccessToken: tok, Expiry: time.Now().Add(time.Hour)}}
}

// tlsCtx is the context gRPC hands per-RPC credentials on a TLS connection.
func tlsCtx() context.Context {
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	return credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
}

// plainCtx is the context on a plaintext connection to addr.
func plainCtx(addr net.Addr) context.Context {
	ai := credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}
	ctx := credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: plainInfo{ai}})
	return peer.NewContext(ctx, &peer.Peer{Addr: addr})
}

type plainInfo struct{ credentials.CommonAuthInfo }

func (plainInfo) AuthType() string { return "insecure" }

// dialTLS connects to srv over TLS with per-RPC credentials pc.
func dialTLS(t *testing.T, srv *grpccredstest.Server, pc credentials.PerRPCCredentials) *grpc.ClientConn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.CA.Certificate)
	conn, err := grpc.NewClient(srv.Addr,
		grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")),
		grpc.WithPerRPCCredentials(pc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func dialWith(t *testing.T, addr string, tc credentials.TransportCredentials, pc credentials.PerRPCCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(tc), grpc.WithPerRPCCredentials(pc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// authorization returns the one authorization value of an incoming call.
func authorization(ctx context.Context) string {
	return strings.Join(metadata.ValueFromIncomingContext(ctx, "authorization"), ",")
}

func check(ctx context.Context, conn *grpc.ClientConn) error {
	return grpccredstest.HealthCheck(ctx, conn)
}

// invalidate reports a rejection of the engine's token generation gen, as a
// connection's retry does.
func invalidate(r oauth2.TokenSource, gen uint64) bool {
	g, _ := engine.Of(r)
	return g.Invalidate(gen)
}
