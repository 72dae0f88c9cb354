package externaltoken_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

const audience = "api://energy-trading"

var trader = grpccredstest.Identity{Name: "Trading Bot", OID: "0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77", Roles: []string{"Trader"}}

// setup starts the kit's identity provider and the server, and returns the
// server, its address, the CA file the client trusts and the client.
func setup(t *testing.T) (*grpccredstest.IdentityProvider, *exampletest.Proc, string, string, exampletest.Program) {
	server := exampletest.Build(t, "server", "./server")
	client := exampletest.Build(t, "client", "./client")
	idp := grpccredstest.NewIdentityProvider(t, "contoso", audience)
	ca := grpccredstest.NewCA(t, "examples")
	leaf := ca.Server()
	exampletest.Say(t, "an identity provider issues tokens for %s; the server checks them against its JWKS", audience)
	srv := server.Start(t, "-addr", "127.0.0.1:0",
		"-cert", exampletest.WriteFile(t, "cert.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "key.pem", leaf.KeyPEM),
		"-jwks-url", idp.JWKSURL, "-jwks-ca", exampletest.WriteFile(t, "idp-ca.pem", idp.CA.PEM),
		"-issuer", idp.Issuer, "-audience", audience)
	return idp, srv, srv.Addr(t), exampletest.WriteFile(t, "ca.pem", ca.PEM), client
}

func issue(t *testing.T, idp *grpccredstest.IdentityProvider, lifetime time.Duration) []byte {
	t.Helper()
	tok, err := idp.Signer.Mint(grpccredstest.Claims{Identity: trader, Expiry: time.Now().Add(lifetime)})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok + "\n")
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDemo is make demo: the client gets a token from outside, has a bad one
// and an expired one refused while its calls go on with the old token, swaps
// in a new one, and everything runs over one TCP connection.
func TestDemo(t *testing.T) {
	idp, srv, addr, caFile, client := setup(t)
	tokenFile := exampletest.WriteFile(t, "token.jwt", issue(t, idp, 10*time.Minute))
	exampletest.Say(t, "the client starts with a token from %s and calls every 100ms", "token.jwt")
	cl := client.Start(t, "-addr", addr, "-ca", caFile, "-token-file", tokenFile, "-interval", "100ms")
	cl.WaitFor(t, "token: acting as Trading Bot")
	cl.WaitFor(t, "call 2: SERVING")

	exampletest.Say(t, "token.jwt now holds a CR/LF header injection; SIGHUP")
	write(t, tokenFile, []byte("x\r\nevil: 1"))
	cl.Signal(t, syscall.SIGHUP)
	cl.WaitFor(t, "new token refused, keeping the current one")
	cl.WaitFor(t, "SERVING")

	exampletest.Say(t, "token.jwt now holds an expired token; SIGHUP")
	write(t, tokenFile, issue(t, idp, -time.Minute))
	cl.Signal(t, syscall.SIGHUP)
	cl.WaitFor(t, "new token refused, keeping the current one")
	cl.WaitFor(t, "SERVING")

	exampletest.Say(t, "token.jwt now holds a new token that lasts an hour; SIGHUP")
	write(t, tokenFile, issue(t, idp, time.Hour))
	cl.Signal(t, syscall.SIGHUP)
	cl.WaitFor(t, "token updated: acting as Trading Bot")
	cl.WaitFor(t, "SERVING")

	exampletest.Say(t, "stop the client, then the server")
	if r := cl.Stop(t); r.Code != 0 || !r.Has(", 0 failed") {
		t.Fatalf("client exit %d:\n%s", r.Code, r.Output())
	}
	r := srv.Stop(t)
	if r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
	if !r.Has("served 1 TCP connection(s)") {
		t.Fatalf("want one TCP connection for everything:\n%s", r.Output())
	}
}

// TestReread: with -reread the client picks up a rotated file by itself, and
// stops after -calls calls.
func TestReread(t *testing.T) {
	idp, srv, addr, caFile, client := setup(t)
	tokenFile := exampletest.WriteFile(t, "token.jwt", issue(t, idp, 10*time.Minute))
	cl := client.Start(t, "-addr", addr, "-ca", caFile, "-token-file", tokenFile,
		"-interval", "50ms", "-reread", "50ms", "-calls", "1000")
	cl.WaitFor(t, "call 1: SERVING")
	write(t, tokenFile, issue(t, idp, time.Hour))
	cl.WaitFor(t, "token updated")
	cl.WaitFor(t, "SERVING")
	if r := cl.Stop(t); r.Code != 0 || !r.Has(", 0 failed") {
		t.Fatalf("client exit %d:\n%s", r.Code, r.Output())
	}
	if r := srv.Stop(t); r.Code != 0 || !r.Has("served 1 TCP connection(s)") {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}

// TestCallsThenExit: -calls ends the client by itself; a token the server
// refuses makes it exit 1.
func TestCallsThenExit(t *testing.T) {
	idp, _, addr, caFile, client := setup(t)
	r := client.Run(t, "-addr", addr, "-ca", caFile, "-interval", "10ms", "-calls", "3",
		"-token-file", exampletest.WriteFile(t, "token.jwt", issue(t, idp, time.Hour)))
	if r.Code != 0 || !r.Has("made 3 calls, 0 failed") {
		t.Fatalf("client exit %d:\n%s", r.Code, r.Output())
	}
	other := grpccredstest.NewSigner(t, idp.Issuer, audience) // not in the JWKS
	forged, err := other.Mint(grpccredstest.Claims{Identity: trader, Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r = client.Run(t, "-addr", addr, "-ca", caFile, "-interval", "10ms", "-calls", "2",
		"-token-file", exampletest.WriteFile(t, "forged.jwt", []byte(forged)))
	if r.Code != 1 || !r.Has("call 1: Unauthenticated") || !r.Has("made 2 calls, 2 failed") {
		t.Fatalf("client exit %d:\n%s", r.Code, r.Output())
	}
}
