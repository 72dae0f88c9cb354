//go:build integration

package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func tlsConfig(ca *grpccredstest.CA) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	return &tls.Config{RootCAs: roots}
}

// apiServer is a gRPC server protected by jwtauth, reading the provider's JWKS.
func apiServer(t *testing.T, p *provider) *grpccredstest.Server {
	t.Helper()
	hc := p.httpClient()
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: hc,
		Issuers: []serverauth.Issuer{{URL: p.issuer(), Audiences: []string{audience}, JWKSURL: p.jwksURL()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(); hc.CloseIdleConnections() })
	return grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v})
}

func clientCredentials(p *provider, secret string) oauth2.TokenSource {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: p.tokenURL(),
		Scopes: []string{audience + "/.default"}, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, p.httpClient())
	return tokensource.ClientCredentials(ctx, cfg)
}

func msal(t *testing.T, p *provider, secret string) oauth2.TokenSource {
	t.Helper()
	src, err := azure.ClientSecret{TenantID: tenant, ClientID: clientID, Scopes: []string{audience + "/.default"},
		Secret: secret, AuthorityHost: p.authorityHost(), HTTPClient: p.httpClient(),
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)},
	}.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// dial connects through the refresh engine the connection builds over src.
func dial(t *testing.T, srv *grpccredstest.Server, src oauth2.TokenSource, opts ...connection.SourceOption) *connection.Connection {
	t.Helper()
	c, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIntegration(t *testing.T) {
	p := startProvider(t)
	srv := apiServer(t, p)
	ctx := context.Background()

	t.Run("x/oauth2 client credentials through the engine", func(t *testing.T) {
		c := dial(t, srv, clientCredentials(p, secret))
		for range 5 {
			if err := grpccredstest.HealthCheck(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("MSAL pointed at the provider", func(t *testing.T) {
		c := dial(t, srv, msal(t, p, secret))
		if err := grpccredstest.HealthCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
		claims, err := c.Claims(ctx)
		if err != nil || claims["client_id"] != clientID {
			t.Fatalf("claims %v, %v", claims, err)
		}
	})

	t.Run("wrong client secret", func(t *testing.T) {
		for name, ts := range map[string]oauth2.TokenSource{
			"x/oauth2": clientCredentials(p, "wrong-"+secret), "MSAL": msal(t, p, "wrong-"+secret),
		} {
			err := grpccredstest.HealthCheck(ctx, dial(t, srv, ts))
			if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("%s: %v, want Unauthenticated naming invalid_client", name, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the secret leaked: %v", name, err)
			}
		}
	})

	t.Run("provider outage", func(t *testing.T) { outage(t, p, srv) })
}

// outage stops the provider while the token is valid (calls go on), lets the
// token expire (Unavailable), then restarts it on the same port (recovery).
func outage(t *testing.T, p *provider, srv *grpccredstest.Server) {
	ctx := context.Background()
	c := dial(t, srv, clientCredentials(p, secret),
		connection.WithRefreshOptions(tokensource.WithBackoff(200*time.Millisecond, time.Second)))
	if err := grpccredstest.HealthCheck(ctx, c); err != nil {
		t.Fatal(err)
	}
	fetched := time.Now()
	p.stop()
	for time.Since(fetched) < ttl*6/10 { // still valid: the outage costs nothing
		if err := grpccredstest.HealthCheck(ctx, c); err != nil {
			t.Fatalf("call while the token is valid and the provider is down: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Until(fetched.Add(ttl)))
	err := grpccredstest.HealthCheck(ctx, c)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("after expiry with the provider down: %v, want Unavailable", err)
	}
	t.Logf("after expiry: %v", err)
	p.start(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err = grpccredstest.HealthCheck(ctx, c); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 15 s of the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
