package grpccredstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestReadmeClient is the "Testing your client" test of docs/testing.md, so
// that it cannot rot: a good token, a rotated one, an expired one, and an
// outage of the identity provider.
func TestReadmeClient(t *testing.T) {
	ctx := context.Background()
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("orders-cli", grpccredstest.Client{Secret: "s3cret", Identity: grpccredstest.Identity{Name: "CLI", Roles: []string{"Trader"}}})
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: idp.HTTPClient(), // keys by discovery from the issuer
		Issuers: []serverauth.Issuer{{URL: idp.Issuer, Audiences: []string{"api://orders"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v})

	// A token handed to the client, then rotated, then an expired one refused.
	ada := grpccredstest.Identity{Name: "Ada", Roles: []string{"Trader"}}
	good, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada})
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, good)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := grpccredstest.HealthCheck(ctx, conn); err != nil {
		t.Fatalf("good token: %v", err)
	}
	next, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada})
	if err := conn.UpdateAccessToken(next); err != nil || grpccredstest.HealthCheck(ctx, conn) != nil {
		t.Fatalf("rotated token: %v", err)
	}
	expired, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada, Expiry: time.Now().Add(-time.Minute)})
	if err := conn.UpdateAccessToken(expired); err == nil {
		t.Fatal("an expired token was accepted")
	}

	// A refreshing client keeps working while the identity provider is down.
	cfg := &clientcredentials.Config{ClientID: "orders-cli", ClientSecret: "s3cret", TokenURL: idp.TokenURL, Scopes: []string{"api://orders/.default"}}
	refreshing, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM,
		tokensource.ClientCredentials(context.WithValue(ctx, oauth2.HTTPClient, idp.HTTPClient()), cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { refreshing.Close() })
	if err := grpccredstest.HealthCheck(ctx, refreshing); err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	idp.SetMode(grpccredstest.Down)
	if err := grpccredstest.HealthCheck(ctx, refreshing); err != nil || srv.Conns() != 2 {
		t.Fatalf("during the outage: %v, %d connections", err, srv.Conns())
	}
}
