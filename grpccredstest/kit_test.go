package grpccredstest_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// A client with client credentials against the identity provider, calling a
// server that verifies its tokens.
func TestClientCredentials(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("orders-cli", grpccredstest.Client{Secret: "s3cret", Identity: grpccredstest.Identity{Name: "CLI"}})
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: idp.HTTPClient(),
		Issuers: []serverauth.Issuer{{URL: idp.Issuer, Audiences: []string{"api://orders"}, JWKSURL: idp.JWKSURL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v})

	cfg := &clientcredentials.Config{ClientID: "orders-cli", ClientSecret: "s3cret", TokenURL: idp.TokenURL}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, idp.HTTPClient())
	conn, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, tokensource.ClientCredentials(ctx, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := grpccredstest.HealthCheck(context.Background(), conn); err != nil || idp.TokenRequests() != 1 || len(srv.Auth()) != 1 {
		t.Fatalf("health check: %v; %d token requests, %d calls recorded; want nil, 1, 1", err, idp.TokenRequests(), len(srv.Auth()))
	}
}

// Tokens with chosen claims: an expired one, and one from a key the
// identity provider never published.
func TestSignerMint(t *testing.T) {
	signer := grpccredstest.NewSigner(t, "https://issuer.example", "api://orders")
	expired, err := signer.Mint(grpccredstest.Claims{
		Identity: grpccredstest.Identity{Name: "Ada", OID: "oid-1", Roles: []string{"Trader"}},
		Expiry:   time.Now().Add(-time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.Parse(expired, func(*jwt.Token) (any, error) { return signer.PublicKey, nil }, jwt.WithExpirationRequired()); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("expired token: %v, want %v", err, jwt.ErrTokenExpired)
	}
	jwt.NewParser().ParseUnverified(expired, claims)
	if got := fmt.Sprintf("%v %v %v %v", claims["name"], claims["roles"], claims["aud"], claims["oid"]); got != "Ada [Trader] api://orders oid-1" {
		t.Fatalf("claims %s", got)
	}

	foreign := grpccredstest.NewSigner(t, "https://issuer.example", "api://orders") // its key is in no JWKS
	forged, _ := foreign.Mint(grpccredstest.Claims{KeyID: signer.KeyID})
	if _, err := jwt.Parse(forged, func(*jwt.Token) (any, error) { return signer.PublicKey, nil }); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Fatalf("foreign token: %v, want %v", err, jwt.ErrTokenSignatureInvalid)
	}
}

// The identity provider failing on demand: a 429 with Retry-After, then an
// outage with connections refused, then back on the same port.
func TestIdentityProviderSetMode(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("app", grpccredstest.Client{Secret: "s", Identity: grpccredstest.Identity{Name: "svc"}})
	hc := idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	status := func() (int, error) {
		resp, err := hc.PostForm(idp.TokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s"}})
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	idp.SetMode(grpccredstest.Fail429)
	if code, err := status(); code != 429 || err != nil {
		t.Fatalf("Fail429: %d, %v", code, err)
	}
	idp.SetMode(grpccredstest.Down)
	if _, err := status(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Down: %v, want connection refused", err)
	}
	idp.SetMode(grpccredstest.Healthy)
	if code, err := status(); code != 200 || err != nil || idp.TokenRequests() != 2 {
		t.Fatalf("back up: %d, %v, %d token requests", code, err, idp.TokenRequests())
	}
}

// A throwaway CA: a server certificate for 127.0.0.1, ::1 and localhost, and
// a client certificate for mTLS.
func TestCA(t *testing.T) {
	ca := grpccredstest.NewCA(t, "test CA")
	server, client := ca.Server(), ca.Client("orders-cli")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := server.TLS.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	if _, err := client.TLS.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || client.TLS.Leaf.Subject.CommonName != "orders-cli" {
		t.Errorf("client certificate for %s: %v", client.TLS.Leaf.Subject.CommonName, err)
	}
	if !ca.Certificate.IsCA || len(ca.PEM) == 0 || len(client.KeyPEM) == 0 {
		t.Errorf("IsCA %v, %d bytes of PEM, %d of client key", ca.Certificate.IsCA, len(ca.PEM), len(client.KeyPEM))
	}
}
