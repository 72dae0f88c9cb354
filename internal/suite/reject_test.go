package suite

import (
	"context"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// verifyingServer is a gRPC server that checks every call's bearer JWT with
// jwtauth against the stack's authority, expecting audience aud.
func verifyingServer(t *testing.T, s *stack, aud string) *grpccredstest.Server {
	t.Helper()
	hc := s.idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: hc,
		Issuers: []serverauth.Issuer{{URL: s.idp.Issuer, Audiences: []string{aud}, JWKSURL: s.idp.JWKSURL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	interceptor := v.UnaryServerInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}
	return grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: func(ctx context.Context, _ metadata.MD) error {
		_, err := interceptor(ctx, nil, info, func(context.Context, any) (any, error) { return nil, nil })
		return err
	}})
}

func check(t *testing.T, c *connection.Connection) error {
	t.Helper()
	return grpccredstest.HealthCheck(context.Background(), c)
}

// A server configured with the wrong audience rejects every token the
// authority issues. Through the whole stack (client credentials over HTTPS,
// the engine on a fake clock that stands still, the retry on
// Unauthenticated, jwtauth with keys from the authority's JWKS), 20 calls
// cost at most 5 token requests and 40 RPCs, and every call gets the
// server's Unauthenticated. The same tokens pass a server expecting the
// right audience, so the rejection is the audience's doing.
func TestWrongAudienceCostsFewTokenRequests(t *testing.T) {
	s := newStack(t)
	right := verifyingServer(t, s, "api://grpccreds")
	wrong := verifyingServer(t, s, "api://someone-else")
	dial := func(srv *grpccredstest.Server) *connection.Connection {
		c, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, s.engine)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	if err := check(t, dial(right)); err != nil {
		t.Fatalf("a server expecting the right audience: %v", err)
	}
	s.settle(t)
	requests := s.idp.TokenRequests()
	c := dial(wrong)
	for i := range 20 {
		before := len(wrong.Auth())
		err := check(t, c)
		if st := status.Convert(err); st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), "audience") {
			t.Errorf("call %d: %v, want Unauthenticated naming the audience", i, err)
		}
		if n := len(wrong.Auth()) - before; n < 1 || n > 2 {
			t.Errorf("call %d reached the server %d times, want 1 or 2", i, n)
		}
	}
	s.settle(t)
	n, rpcs := s.idp.TokenRequests()-requests, len(wrong.Auth())
	t.Logf("20 rejected calls: %d token requests, %d RPCs", n, rpcs)
	if n > 5 {
		t.Errorf("token requests = %d for 20 rejected calls, want ≤ 5", n)
	}
	if rpcs > 40 {
		t.Errorf("the server saw %d RPCs, want ≤ 40", rpcs)
	}
	// The tokens the engine replaced after rejections still pass the right
	// server: nothing about them was wrong but their audience.
	if err := check(t, dial(right)); err != nil {
		t.Fatalf("the right server after the rejections: %v", err)
	}
}
