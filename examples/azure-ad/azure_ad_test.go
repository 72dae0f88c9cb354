package azuread_test

import (
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	audience = "api://energy-trading"
)

// TestAzureAD runs the client against the kit's Azure-AD-shaped authority
// (over HTTPS, trusted through SSL_CERT_FILE as a real deployment's system
// roots would be) and the jwt-interceptor example's server.
func TestAzureAD(t *testing.T) {
	server := exampletest.Build(t, "server", "../jwt-interceptor/server")
	client := exampletest.Build(t, "client", "./client")
	idp := grpccredstest.NewIdentityProvider(t, tenant, audience)
	idp.Register("trading-bot", grpccredstest.Client{Secret: "bot-secret-1", Identity: grpccredstest.Identity{
		Name: "Trading Bot", OID: "0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77", Roles: []string{"Trader"}}})
	idp.Register("report-job", grpccredstest.Client{Secret: "job-secret-2", Identity: grpccredstest.Identity{
		Name: "Report Job", OID: "77aa0177-0000-4000-8000-000000000001", Roles: []string{"Reader"}}})
	ca := grpccredstest.NewCA(t, "examples")
	leaf := ca.Server()
	srv := server.Start(t, "-addr", "127.0.0.1:0",
		"-cert", exampletest.WriteFile(t, "cert.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "key.pem", leaf.KeyPEM),
		"-jwks-url", idp.JWKSURL, "-jwks-ca", exampletest.WriteFile(t, "idp-ca.pem", idp.CA.PEM),
		"-issuer", idp.Issuer, "-audience", audience, "-check-role", "Trader")
	addr := srv.Addr(t)
	caFile := exampletest.WriteFile(t, "ca.pem", ca.PEM)
	app := func(clientID, secret string) exampletest.Program {
		return client.With("SSL_CERT_FILE="+exampletest.WriteFile(t, "roots.pem", idp.CA.PEM),
			"AZURE_AUTHORITY_HOST="+idp.URL, "AZURE_TENANT_ID="+tenant,
			"AZURE_CLIENT_ID="+clientID, "AZURE_CLIENT_SECRET="+secret,
			"AZURE_TOKEN_CREDENTIALS=EnvironmentCredential") // never a managed identity or az of the machine running the test
	}
	args := func(extra ...string) []string {
		return append([]string{"-addr", addr, "-ca", caFile, "-scope", audience + "/.default", "-disable-instance-discovery"}, extra...)
	}

	for _, cred := range []string{"secret", "default"} {
		t.Run(cred+": 20 calls on a cold connection share one token request", func(t *testing.T) {
			before := idp.TokenRequests()
			r := app("trading-bot", "bot-secret-1").Run(t, args("-credential", cred, "-calls", "20")...)
			if r.Code != 0 || !r.Has("20 of 20 calls OK") || !r.Has("acting as Trading Bot (oid 0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77, roles [Trader])") {
				t.Fatalf("exit %d:\n%s", r.Code, r.Output())
			}
			if n := idp.TokenRequests() - before; n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
			srv.WaitFor(t, "called by Trading Bot")
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		r := app("trading-bot", "not-the-secret").Run(t, args("-credential", "secret")...)
		if r.Code != 1 || !r.Has("check: Unauthenticated") || r.Has("not-the-secret") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("an app without the role", func(t *testing.T) {
		r := app("report-job", "job-secret-2").Run(t, args("-credential", "default")...)
		if r.Code != 1 || !r.Has("check: PermissionDenied") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("no scope", func(t *testing.T) {
		r := app("trading-bot", "bot-secret-1").Run(t, "-addr", addr, "-credential", "secret")
		if r.Code != 1 || !r.Has("error: -scope is required") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}
