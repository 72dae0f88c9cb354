// Command azure-ad gets tokens from Azure AD through the default credential
// chain (azure.Default: environment, workload identity, managed identity,
// az, azd), kept fresh by the refresh engine, and calls a gRPC API with them.
//
// With no environment it runs against an embedded HTTPS authority (OIDC
// discovery, token endpoint, JWKS) and an embedded TLS server that verifies
// the tokens against that JWKS; it sets the chain's environment variables for
// itself, so the chain picks the environment credential. To use a real
// tenant instead, set
//
//	GRPCCREDS_TARGET   host:port of your gRPC API (TLS, system roots)
//	GRPCCREDS_SCOPE    e.g. api://your-api/.default
//
// and whatever the chain should find: AZURE_TENANT_ID, AZURE_CLIENT_ID and
// AZURE_CLIENT_SECRET, a managed identity, or `az login`. It calls the
// standard health service on GRPCCREDS_TARGET.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	audience = "api://energy-trading"
	clientID = "trading-bot"
	secret   = "example-client-secret"
)

func main() {
	run := embedded
	if os.Getenv("GRPCCREDS_TARGET") != "" {
		run = realTenant
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "example failed:", err)
		os.Exit(1)
	}
	fmt.Println("example passed")
}

func realTenant() error {
	ts, err := azure.Default{Scope: os.Getenv("GRPCCREDS_SCOPE")}.TokenSource()
	if err != nil {
		return err
	}
	conn, err := connection.WithTokenSource(os.Getenv("GRPCCREDS_TARGET"), nil, ts)
	if err != nil {
		return err
	}
	defer conn.Close()
	if c, err := conn.Claims(context.Background()); err == nil {
		fmt.Printf("acting as app %v (oid %s, roles %v)\n", c.All["appid"], c.OID, c.Roles)
	}
	return expect("health check on "+os.Getenv("GRPCCREDS_TARGET"), codes.OK, grpccredstest.HealthCheck(context.Background(), conn))
}

func embedded() error {
	idp, err := grpccredstest.StartIdentityProvider(tenant, audience)
	if err != nil {
		return err
	}
	defer idp.Close()
	idp.Register(clientID, grpccredstest.Client{Secret: secret, Identity: grpccredstest.Identity{
		Name: "Trading Bot", OID: "0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77", Roles: []string{"Trader"}}})
	fmt.Println("embedded Azure AD authority at", idp.AuthorityURL())

	v, err := serverauth.NewVerifier(serverauth.Config{JWKSURL: idp.JWKSURL(), HTTPClient: idp.HTTPClient(),
		Issuer: idp.Issuer(), Audience: audience, RequiredClaims: []string{"name", "oid"}})
	if err != nil {
		return err
	}
	defer v.Close()
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Options: []grpc.ServerOption{grpc.UnaryInterceptor(v.UnaryServerInterceptor())}})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("TLS gRPC server verifying tokens against the authority's JWKS at", srv.Addr)

	// What a deployment would set; the chain reads it when TokenSource is called.
	for k, v := range map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": clientID, "AZURE_AUTHORITY_HOST": idp.Base()} {
		os.Setenv(k, v)
	}
	chain := azure.Default{Scope: audience + "/.default", HTTPClient: idp.HTTPClient(),
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)}}
	good, err := dial(srv, chain, secret)
	if err != nil {
		return err
	}
	defer good.Close()
	bad, err := dial(srv, chain, "wrong-secret")
	if err != nil {
		return err
	}
	defer bad.Close()
	return inOrder(
		func() error { return fiftyAtOnce(good, idp) },
		func() error {
			// A configured secret that Azure AD rejects stops the chain: no other identity stands in.
			return expect("a call with a wrong client secret", codes.Unauthenticated, grpccredstest.HealthCheck(context.Background(), bad))
		},
	)
}

func dial(srv *grpccredstest.Server, chain azure.Default, secret string) (*connection.Connection, error) {
	os.Setenv("AZURE_CLIENT_SECRET", secret)
	ts, err := chain.TokenSource()
	if err != nil {
		return nil, err
	}
	return connection.WithTokenSource(srv.Addr, srv.CA.PEM, ts)
}

// fiftyAtOnce starts 50 calls on a cold connection: MSAL alone would send 50
// token requests; behind the engine they share one.
func fiftyAtOnce(conn *connection.Connection, idp *grpccredstest.IdentityProvider) error {
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() { errs <- grpccredstest.HealthCheck(context.Background(), conn) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return expect("50 concurrent calls on a cold connection", codes.OK, err)
		}
	}
	fmt.Printf("%-56s -> OK, %d token request(s) at the authority\n", "50 concurrent calls on a cold connection", idp.TokenRequests())
	if idp.TokenRequests() != 1 {
		return fmt.Errorf("want 1 token request, got %d", idp.TokenRequests())
	}
	return nil
}
