//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/claims"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The health service's methods, which every grpccredstest.Server serves:
// the methods MethodScopes are put on.
const (
	checkMethod = healthpb.Health_Check_FullMethodName
	listMethod  = healthpb.Health_List_FullMethodName
)

// credentialsConfig asks p for client-credentials tokens for resource (p's
// default resource, its audience, if empty) with scopes.
func credentialsConfig(p *provider, resource string, scopes ...string) *clientcredentials.Config {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: p.tokenURL(),
		Scopes: scopes, AuthStyle: oauth2.AuthStyleInParams}
	if resource != "" {
		cfg.EndpointParams = url.Values{"resource": {resource}}
	}
	return cfg
}

func providerContext(p *provider) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, p.httpClient())
}

// scopedCredentials is clientCredentials for any resource and scopes, as a
// source the connection's refresh engine fetches from.
func scopedCredentials(p *provider, resource string, scopes ...string) oauth2.TokenSource {
	return tokensource.ClientCredentials(providerContext(p), credentialsConfig(p, resource, scopes...))
}

// fetchToken fetches one access token from p.
func fetchToken(t *testing.T, p *provider, resource string, scopes ...string) string {
	t.Helper()
	tok, err := credentialsConfig(p, resource, scopes...).Token(providerContext(p))
	if err != nil {
		t.Fatalf("token for %q: %v", resource, err)
	}
	return tok.AccessToken
}

// dialToken connects with one fixed token (no refresh, no retry).
func dialToken(t *testing.T, srv *grpccredstest.Server, token string) *connection.Connection {
	t.Helper()
	c, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthList calls the health service's List method, within 5 seconds.
func healthList(ctx context.Context, c *connection.Connection) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(c).List(ctx, &healthpb.HealthListRequest{})
	return err
}

// wantCode fails the test unless err has code want.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: %v (code %v), want %v", what, err, got, want)
	}
}

// discoveryDoc reads p's OpenID Connect discovery document.
func discoveryDoc(t *testing.T, p *provider) map[string]any {
	t.Helper()
	resp, err := p.httpClient().Get(p.discoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", p.discoveryURL(), resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// newVerifier is serverauth.NewVerifier, closed when the test ends.
func newVerifier(t *testing.T, cfg serverauth.Config) *serverauth.Verifier {
	t.Helper()
	v, err := serverauth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// admitted records the verified claims the handler's context carries
// (serverauth.ClaimsFromContext) on every call the Verifier let through. It
// is a grpccredstest.ServerConfig.Check, which runs after the Verifier.
type admitted struct {
	mu   sync.Mutex
	last claims.Claims
}

func (a *admitted) check(ctx context.Context, _ metadata.MD) error {
	c, ok := serverauth.ClaimsFromContext(ctx)
	if !ok {
		return status.Error(codes.Internal, "the Verifier admitted the call but left no claims in its context")
	}
	a.mu.Lock()
	a.last = c
	a.mu.Unlock()
	return nil
}

// claims returns the claims of the last admitted call, and forgets them.
func (a *admitted) claims(t *testing.T) claims.Claims {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.last
	if c == nil {
		t.Fatal("no call reached the handler")
	}
	a.last = nil
	return c
}

// names lists c's claim names, sorted, for the log.
func names(c claims.Claims) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scopeOf returns the scopes of a "scope" claim.
func scopeOf(c claims.Claims) []string {
	s, _ := c["scope"].(string)
	return strings.Fields(s)
}
