package grpccredstest_test

import (
	"context"
	"fmt"
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
// server that verifies its tokens. In a test, use NewIdentityProvider and
// NewServer, which clean up by themselves.
func Example() {
	idp, err := grpccredstest.StartIdentityProvider("my-tenant", "api://orders")
	if err != nil {
		panic(err)
	}
	defer idp.Close()
	idp.Register("orders-cli", grpccredstest.Client{Secret: "s3cret", Identity: grpccredstest.Identity{Name: "CLI"}})
	v, err := serverauth.NewVerifier(serverauth.Config{JWKSURL: idp.JWKSURL(), HTTPClient: idp.HTTPClient(),
		Issuer: idp.Issuer(), Audience: "api://orders"})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Verifier: v})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	cfg := &clientcredentials.Config{ClientID: "orders-cli", ClientSecret: "s3cret", TokenURL: idp.TokenURL()}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, idp.HTTPClient())
	conn, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, tokensource.ClientCredentials(ctx, cfg))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Println(grpccredstest.HealthCheck(context.Background(), conn), idp.TokenRequests(), len(srv.Auth()))
	// Output: <nil> 1 1
}

// Tokens with chosen claims: here an expired one, and one from a key the
// identity provider never published.
func ExampleSigner_Mint() {
	signer, _ := grpccredstest.NewSigner("https://issuer.example", "api://orders")
	expired, _ := signer.Mint(grpccredstest.Claims{
		Identity: grpccredstest.Identity{Name: "Ada", OID: "oid-1", Roles: []string{"Trader"}},
		Expiry:   time.Now().Add(-time.Minute),
	})
	claims := jwt.MapClaims{}
	jwt.NewParser().ParseUnverified(expired, claims) // read only, to show what was minted
	fmt.Println(claims["name"], claims["roles"], claims["aud"])

	foreign, _ := grpccredstest.NewSigner("https://issuer.example", "api://orders") // its key is in no JWKS
	_, _ = foreign.Mint(grpccredstest.Claims{KeyID: "key-1"})
	// Output: Ada [Trader] api://orders
}

// The identity provider failing on demand: a 429 with Retry-After, then an
// outage, then back on the same port.
func ExampleIdentityProvider_SetMode() {
	idp, _ := grpccredstest.StartIdentityProvider("my-tenant", "api://orders")
	defer idp.Close()
	idp.SetMode(grpccredstest.Fail429)
	idp.SetMode(grpccredstest.Healthy)
	idp.Stop()
	fmt.Println(idp.Start())
	// Output: <nil>
}

// A throwaway CA: a server certificate for 127.0.0.1, ::1 and localhost, and
// a client certificate for mTLS.
func ExampleCA() {
	ca := grpccredstest.NewCA("test CA")
	server, client := ca.Server(), ca.Client("orders-cli")
	fmt.Println(len(ca.PEM) > 0, server.TLS.Leaf != nil || len(server.CertPEM) > 0, len(client.KeyPEM) > 0)
	// Output: true true true
}
