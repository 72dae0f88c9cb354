package jwtinterceptor_test

import (
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

const audience = "api://energy-trading"

// start builds the mains, starts an identity provider and the server with
// extra flags (the value "JWKS" stands for the provider's JWKS URL), and
// returns what a test needs to run the client against it.
func start(t *testing.T, extra ...string) (idp *grpccredstest.IdentityProvider, client exampletest.Program,
	srv *exampletest.Proc, addr, caFile string) {
	server := exampletest.Build(t, "server", "./server")
	client = exampletest.Build(t, "client", "./client")
	idp = grpccredstest.NewIdentityProvider(t, "contoso", audience)
	ca := grpccredstest.NewCA(t, "examples")
	leaf := ca.Server()
	for i, a := range extra {
		if a == "JWKS" {
			extra[i] = idp.JWKSURL
		}
	}
	srv = server.Start(t, append([]string{"-addr", "127.0.0.1:0",
		"-cert", exampletest.WriteFile(t, "cert.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "key.pem", leaf.KeyPEM),
		"-jwks-ca", exampletest.WriteFile(t, "idp-ca.pem", idp.CA.PEM),
		"-issuer", idp.Issuer, "-audience", audience, "-check-role", "Trader"}, extra...)...)
	return idp, client, srv, srv.Addr(t), exampletest.WriteFile(t, "ca.pem", ca.PEM)
}

// TestJWTInterceptor runs the server against the kit's identity provider
// (its JWKS over HTTPS) and the client with tokens it issued.
func TestJWTInterceptor(t *testing.T) {
	idp, client, srv, addr, caFile := start(t, "-jwks-url", "JWKS")
	call := func(t *testing.T, token string) exampletest.Result {
		t.Helper()
		return client.Run(t, "-addr", addr, "-ca", caFile, "-token-file", exampletest.WriteFile(t, "token", []byte(token)))
	}
	issue := func(id grpccredstest.Identity) string {
		tok, err := idp.Signer.Mint(grpccredstest.Claims{Identity: id, Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	trader := issue(grpccredstest.Identity{Name: "Trading Bot", OID: "0f5e1c9a", Roles: []string{"Reader", "Trader"}})
	reader := issue(grpccredstest.Identity{Name: "Report Job", OID: "77aa01", Roles: []string{"Reader"}})

	t.Run("trader is admitted to Check and Watch", func(t *testing.T) {
		r := call(t, trader)
		if r.Code != 0 || !r.Has("Check: SERVING") || !r.Has("Watch: SERVING") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		srv.WaitFor(t, `/grpc.health.v1.Health/Check called by Trading Bot (oid 0f5e1c9a, roles [Reader Trader], scp <nil>)`)
	})
	t.Run("reader lacks the role for Check", func(t *testing.T) {
		r := call(t, reader)
		if r.Code != 1 || !r.Has("check: PermissionDenied") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("tampered token is refused", func(t *testing.T) {
		r := call(t, trader[:len(trader)-4]+"AAAA")
		if r.Code != 1 || !r.Has("check: Unauthenticated") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("token for another audience is refused", func(t *testing.T) {
		other, err := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "Trading Bot", OID: "0f5e1c9a", Roles: []string{"Trader"}}, Audience: "api://someone-else"})
		if err != nil {
			t.Fatal(err)
		}
		r := call(t, other)
		if r.Code != 1 || !r.Has("check: Unauthenticated") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}

// TestDiscoveryAndScopes runs the server with the issuer alone (its keys
// found by discovery) and a scope that may call Check besides the role: a
// user's delegated token with that scope is admitted, one without it is not.
func TestDiscoveryAndScopes(t *testing.T) {
	idp, client, srv, addr, caFile := start(t, "-check-scope", "Health.Read")
	user := func(scp string) string {
		tok, err := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "Ada", OID: "a11ce"},
			Extra: map[string]any{"scp": scp, "roles": nil}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	call := func(t *testing.T, token string) exampletest.Result {
		t.Helper()
		return client.Run(t, "-addr", addr, "-ca", caFile, "-token-file", exampletest.WriteFile(t, "token", []byte(token)))
	}
	t.Run("a user granted Health.Read is admitted", func(t *testing.T) {
		if r := call(t, user("openid Health.Read")); r.Code != 0 || !r.Has("Check: SERVING") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		srv.WaitFor(t, `/grpc.health.v1.Health/Check called by Ada (oid a11ce, roles [], scp openid Health.Read)`)
	})
	t.Run("a user without it is refused", func(t *testing.T) {
		if r := call(t, user("openid Health.Write")); r.Code != 1 || !r.Has("check: PermissionDenied") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}
