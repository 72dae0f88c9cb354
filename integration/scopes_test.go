//go:build integration

package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc/codes"
)

// TestScopeThroughDiscovery: a verifier given only the issuer's URL and
// audience finds the issuer's keys by OpenID Connect discovery, and
// MethodScopes admits a call by the "scope" the provider granted.
func TestScopeThroughDiscovery(t *testing.T) {
	p := startProvider(t)
	ctx := context.Background()
	v := newVerifier(t, serverauth.Config{HTTPClient: p.httpClient(),
		Issuers:      []serverauth.Issuer{{URL: p.issuer(), Audiences: []string{audience}}}, // no JWKSURL: discovery
		MethodScopes: map[string][]string{checkMethod: {scopeRead}, listMethod: {scopeWrite}}})
	var seen admitted
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v, Check: seen.check})

	t.Run("scope orders.read admits Check, not List", func(t *testing.T) {
		c := dial(t, srv, scopedCredentials(p, "", audience+"/.default", scopeRead))
		start := time.Now()
		if err := grpccredstest.HealthCheck(ctx, c); err != nil { // may wait for discovery
			t.Fatalf("%s with scope %s: %v", checkMethod, scopeRead, err)
		}
		got := seen.claims(t)
		if !slices.Contains(scopeOf(got), scopeRead) || got["iss"] != p.issuer() {
			t.Fatalf("verified claims %v: want iss %s and scope %s", got, p.issuer(), scopeRead)
		}
		t.Logf("%s: OK, first call %v incl. token fetch (keys by discovery of %s, jwks_uri %v); verified scope %q",
			checkMethod, time.Since(start).Round(time.Millisecond), p.discoveryURL(), discoveryDoc(t, p)["jwks_uri"], got["scope"])
		err := healthList(ctx, c)
		wantCode(t, listMethod, err, codes.PermissionDenied)
		if !strings.Contains(err.Error(), scopeWrite) {
			t.Fatalf("%s: %v, want the missing scope %s named", listMethod, err, scopeWrite)
		}
		t.Logf("%s: %v", listMethod, err)
	})

	t.Run("no orders.read: Check refused", func(t *testing.T) {
		c := dial(t, srv, scopedCredentials(p, "", audience+"/.default"))
		err := grpccredstest.HealthCheck(ctx, c)
		wantCode(t, checkMethod+" without "+scopeRead, err, codes.PermissionDenied)
		t.Logf("token with scope %q only: %v", audience+"/.default", err)
	})

	t.Run("the client may not ask for orders.write", func(t *testing.T) {
		_, err := credentialsConfig(p, "", audience+"/.default", scopeWrite).Token(providerContext(p))
		if err == nil || !strings.Contains(err.Error(), "invalid_scope") {
			t.Fatalf("asking for %s: %v, want invalid_scope", scopeWrite, err)
		}
		t.Logf("provider refuses the client %s: invalid_scope", scopeWrite)
	})
}
