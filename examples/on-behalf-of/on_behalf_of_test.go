package onbehalfof_test

import (
	"context"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// TestOnBehalfOf runs a user's client against the middle tier, which calls
// the jwt-interceptor example's server as that user: the downstream server
// sees the user (by name and oid) in a token for its own audience, and the
// middle tier trades each user's token once.
func TestOnBehalfOf(t *testing.T) {
	downstream := exampletest.Build(t, "downstream", "../jwt-interceptor/server")
	middle := exampletest.Build(t, "middle", "./middle")
	client := exampletest.Build(t, "client", "../jwt-interceptor/client")

	idp := grpccredstest.NewIdentityProvider(t, "contoso", "api://middle")
	idp.Register("middle-tier", grpccredstest.Client{Secret: "middle-s3cret"})
	idpCA := exampletest.WriteFile(t, "idp-ca.pem", idp.CA.PEM)
	ca := grpccredstest.NewCA(t, "examples")
	caFile := exampletest.WriteFile(t, "ca.pem", ca.PEM)
	leaf := func(name string) (string, string) {
		l := ca.Server()
		return exampletest.WriteFile(t, name+".pem", l.CertPEM), exampletest.WriteFile(t, name+"-key.pem", l.KeyPEM)
	}

	dCert, dKey := leaf("downstream")
	down := downstream.Start(t, "-addr", "127.0.0.1:0", "-cert", dCert, "-key", dKey, "-jwks-ca", idpCA,
		"-jwks-url", idp.JWKSURL, "-issuer", idp.Issuer, "-audience", "api://energy-trading", "-check-role", "Trader")
	downAddr := down.Addr(t)
	mCert, mKey := leaf("middle")
	mid := middle.Start(t, "-addr", "127.0.0.1:0", "-cert", mCert, "-key", mKey,
		"-issuer", idp.Issuer, "-audience", "api://middle", "-idp-ca", idpCA,
		"-downstream", downAddr, "-downstream-ca", caFile, "-downstream-audience", "api://energy-trading",
		"-token-url", idp.TokenURL, "-client-id", "middle-tier",
		"-client-secret-file", exampletest.WriteFile(t, "secret", []byte("middle-s3cret\n")))

	midAddr := mid.Addr(t)
	user := func(name, oid string, roles ...string) string {
		tok, err := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: name, OID: oid, Roles: roles},
			Audience: "api://middle", Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	call := func(t *testing.T, token string) exampletest.Result {
		t.Helper()
		return client.Run(t, "-addr", midAddr, "-ca", caFile, "-token-file", exampletest.WriteFile(t, "token", []byte(token)))
	}
	ada := user("Ada", "oid-ada", "Trader")

	t.Run("a trader reaches the downstream service as herself", func(t *testing.T) {
		before := idp.TokenRequests()
		for range 2 {
			if r := call(t, ada); r.Code != 0 || !r.Has("Check: SERVING") || !r.Has("Watch: SERVING") {
				t.Fatalf("exit %d:\n%s", r.Code, r.Output())
			}
		}
		down.WaitFor(t, `/grpc.health.v1.Health/Check called by Ada (oid oid-ada, roles [Trader], scp <nil>)`)
		if n := idp.TokenRequests() - before; n != 1 {
			t.Fatalf("%d token exchanges for one user, want 1 (the middle tier keeps it)", n)
		}
	})
	t.Run("a user without the role is refused downstream", func(t *testing.T) {
		if r := call(t, user("Rex", "oid-rex", "Reader")); r.Code != 1 || !r.Has("check: PermissionDenied") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("a token for another audience is refused by the middle tier", func(t *testing.T) {
		other, err := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "Ada", OID: "oid-ada", Roles: []string{"Trader"}},
			Audience: "api://energy-trading"})
		if err != nil {
			t.Fatal(err)
		}
		if r := call(t, other); r.Code != 1 || !r.Has("check: Unauthenticated") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	// A client still watching does not keep a server from stopping: calls
	// in progress get 5 seconds, then open streams are cut.
	forDown, err := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "Ada", OID: "oid-ada", Roles: []string{"Trader"}},
		Audience: "api://energy-trading", Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		proc  *exampletest.Proc
		addr  string
		token string
	}{{mid, midAddr, ada}, {down, downAddr, forDown}} {
		watch(t, p.addr, ca.PEM, p.token)
		began := time.Now()
		if r := p.proc.Stop(t); r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		exampletest.Say(t, "stopped %v after SIGTERM with a Watch open", time.Since(began).Round(100*time.Millisecond))
	}
}

// watch opens a health Watch on addr and leaves it open until the test ends.
func watch(t *testing.T, addr string, caPEM []byte, token string) {
	t.Helper()
	conn, err := connection.WithExternalAccessToken(addr, caPEM, token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); conn.Close() })
	w, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := w.Recv(); err != nil || m.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch %s: %v %v", addr, m, err)
	}
}
