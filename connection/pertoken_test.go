package connection

import (
	"context"
	"testing"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// A middle tier forwards one incoming context to two downstream services. A
// token set for service A's connection reaches A only; B's connection sends
// its own token, or none.
func TestPerCallTokenReachesOnlyItsConnection(t *testing.T) {
	a := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	b := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	connA := mustExternal(t, a, "service-token-a")
	connB := mustExternal(t, b, "service-token-b")
	plainB, err := WithTLS(b.Addr, b.CA.PEM)
	if err != nil {
		t.Fatal(err)
	}
	defer plainB.Close()

	ctx := connA.WithToken(context.Background(), "user-token-for-A")
	for _, c := range []*Connection{connA, connB, plainB} {
		if err := call(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	both := connB.WithToken(ctx, "user-token-for-B")
	for _, c := range []*Connection{connA, connB} {
		if err := call(both, c); err != nil {
			t.Fatal(err)
		}
	}
	want := map[*grpccredstest.Server][]string{
		a: {"Bearer user-token-for-A", "Bearer user-token-for-A"},
		b: {"Bearer service-token-b", "", "Bearer user-token-for-B"},
	}
	for srv, w := range want {
		got := srv.Auth()
		if len(got) != len(w) {
			t.Fatalf("server saw %q, want %q", got, w)
		}
		for i := range w {
			if v := joinAuth(got[i]); v != w[i] {
				t.Errorf("call %d: server saw %q, want %q", i, v, w[i])
			}
		}
	}
}

func joinAuth(vals []string) string {
	if len(vals) > 1 {
		return "more than one header"
	}
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// A connection without a token of its own still carries a per-call token, as
// a service forwarding its callers' tokens needs, and still validates it.
func TestWithTLSCarriesAPerCallToken(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c, err := WithTLS(srv.Addr, srv.CA.PEM)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(c.WithToken(context.Background(), "forwarded"), c); err != nil {
		t.Fatal(err)
	}
	if err := call(c.WithToken(context.Background(), "bad\r\nx: y"), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unusable per-call token: %v, want Unauthenticated", err)
	}
	if got := srv.Auth(); len(got) != 1 || joinAuth(got[0]) != "Bearer forwarded" {
		t.Fatalf("server saw %q", got)
	}
}

// NoRetryOnUnauthenticated keeps one call from being resent.
func TestNoRetryOnUnauthenticatedOptsOneCallOut(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("tok-1", true)})
	src := &countingSource{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = healthpb.NewHealthClient(c).Check(context.Background(), &healthpb.HealthCheckRequest{}, NoRetryOnUnauthenticated())
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("opted-out call: %v, want the server's Unauthenticated", err)
	}
	if n := len(srv.Auth()); n != 1 || src.n.Load() != 1 {
		t.Fatalf("server saw %d calls, source fetched %d times; want 1 and 1 (no resend)", n, src.n.Load())
	}
	if err := call(context.Background(), c); err != nil {
		t.Fatalf("next call: %v", err)
	}
}

// A second credential on the connection (here a service header from its own
// engine) must not make the retry resend a call that carried a per-call
// token, nor make the connection's engine drop its token.
func TestPerCallTokenIsNotResentBecauseOfAnotherCredential(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("user-token", true)})
	own, svc := &countingSource{}, &countingSource{}
	svcEngine := enginetest.Engine(t, svc)
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, own,
		WithDialOptions(grpc.WithPerRPCCredentials(creds.NewBearer(svcEngine, creds.WithHeader("x-service-auth")))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(context.Background(), c); err != nil { // the engine's first token
		t.Fatal(err)
	}
	if err := call(c.WithToken(context.Background(), "user-token"), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("rejected per-call token: %v, want the server's Unauthenticated", err)
	}
	if n := len(srv.Auth()); n != 2 || own.n.Load() != 1 {
		t.Fatalf("server saw %d calls and the engine fetched %d times; want 2 and 1 (no resend, no invalidation)", n, own.n.Load())
	}
}
