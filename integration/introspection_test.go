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

// TestOpaqueTokenIntrospection: the provider issues opaque access tokens
// for opaqueAudience, and the API checks them at the provider's RFC 7662
// introspection endpoint (found in its discovery document), authenticated
// as the resource-server client rsClientID; JWTs on the same verifier are
// still verified locally.
func TestOpaqueTokenIntrospection(t *testing.T) {
	p := startProvider(t)
	ctx := context.Background()
	introURL, _ := discoveryDoc(t, p)["introspection_endpoint"].(string)
	if introURL == "" {
		t.Fatal("the discovery document names no introspection_endpoint")
	}
	t.Logf("introspection_endpoint %s", introURL)
	api := func(t *testing.T, rsSecret string) (*grpccredstest.Server, *admitted) {
		v := newVerifier(t, serverauth.Config{HTTPClient: p.httpClient(),
			Issuers: []serverauth.Issuer{{URL: p.issuer(), Audiences: []string{audience}, JWKSURL: p.jwksURL()}},
			Introspection: &serverauth.Introspection{URL: introURL, ClientID: rsClientID, ClientSecret: rsSecret,
				Audiences: []string{opaqueAudience}, Issuer: p.issuer()},
			MethodScopes: map[string][]string{checkMethod: {scopeRead}, listMethod: {scopeWrite}}})
		seen := new(admitted)
		return grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v, Check: seen.check}), seen
	}
	srv, seen := api(t, rsSecret)

	t.Run("opaque token admitted with the introspection answer's claims", func(t *testing.T) {
		tok := fetchToken(t, p, opaqueAudience, scopeRead)
		if strings.Count(tok, ".") == 2 {
			t.Fatalf("the provider issued a JWT for %s, want an opaque token", opaqueAudience)
		}
		c := dial(t, srv, scopedCredentials(p, opaqueAudience, scopeRead))
		if err := grpccredstest.HealthCheck(ctx, c); err != nil {
			t.Fatalf("%s with an opaque token: %v", checkMethod, err)
		}
		got := seen.claims(t)
		if got["client_id"] != clientID || got["aud"] != opaqueAudience || got["iss"] != p.issuer() ||
			!slices.Contains(scopeOf(got), scopeRead) || got["active"] != true {
			t.Fatalf("claims in the handler: %v", got)
		}
		t.Logf("opaque token (%d chars, no JWT): %s OK; handler claims %v: client_id %q, scope %q, aud %q",
			len(tok), checkMethod, names(got), got["client_id"], got["scope"], got["aud"])
		err := healthList(ctx, c)
		wantCode(t, listMethod+" with an opaque token", err, codes.PermissionDenied)
		t.Logf("%s: %v", listMethod, err)

		v := newVerifier(t, serverauth.Config{HTTPClient: p.httpClient(),
			Introspection: &serverauth.Introspection{URL: introURL, ClientID: rsClientID, ClientSecret: rsSecret,
				Audiences: []string{opaqueAudience}}})
		vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		direct, err := v.Verify(vctx, tok)
		if err != nil || direct["client_id"] != clientID || !slices.Contains(scopeOf(direct), scopeRead) {
			t.Fatalf("Verify (introspection only, no Issuers): %v, %v", direct, err)
		}
		t.Logf("Verify with Introspection and no Issuers: client_id %q, scope %q", direct["client_id"], direct["scope"])
	})

	t.Run("a JWT beside it is verified with the JWKS", func(t *testing.T) {
		c := dial(t, srv, scopedCredentials(p, "", audience+"/.default", scopeRead))
		if err := grpccredstest.HealthCheck(ctx, c); err != nil {
			t.Fatalf("%s with a JWT: %v", checkMethod, err)
		}
		got := seen.claims(t)
		if got["aud"] != audience || got["active"] != nil {
			t.Fatalf("claims of the JWT: %v, want aud %s and no introspection answer", got, audience)
		}
		t.Logf("JWT on the same verifier: %s OK; claims %v (aud %q, no \"active\": not introspected)", checkMethod, names(got), got["aud"])
	})

	t.Run("garbage opaque token", func(t *testing.T) {
		err := grpccredstest.HealthCheck(ctx, dialToken(t, srv, "not-a-token-the-provider-issued-0123456789"))
		wantCode(t, "garbage opaque token", err, codes.Unauthenticated)
		t.Logf("garbage opaque token: %v", err)
	})

	t.Run("wrong introspection secret", func(t *testing.T) {
		wrong, _ := api(t, "wrong-"+rsSecret)
		err := grpccredstest.HealthCheck(ctx, dialToken(t, wrong, fetchToken(t, p, opaqueAudience, scopeRead)))
		wantCode(t, "introspection with a wrong client secret", err, codes.Unavailable)
		if strings.Contains(err.Error(), rsSecret) {
			t.Fatalf("the secret leaked: %v", err)
		}
		t.Logf("API with a wrong introspection secret, valid opaque token: %v", err)
	})

	t.Run("provider down", func(t *testing.T) {
		known := fetchToken(t, p, opaqueAudience, scopeRead)
		fresh := fetchToken(t, p, opaqueAudience, scopeRead)
		cKnown, cFresh := dialToken(t, srv, known), dialToken(t, srv, fresh)
		if err := grpccredstest.HealthCheck(ctx, cKnown); err != nil {
			t.Fatal(err)
		}
		p.stop()
		if err := grpccredstest.HealthCheck(ctx, cKnown); err != nil {
			t.Fatalf("token introspected before the outage, still within exp and MaxCacheAge: %v", err)
		}
		t.Logf("provider down: token introspected before it still admitted (cached answer)")
		err := grpccredstest.HealthCheck(ctx, cFresh)
		wantCode(t, "new opaque token with the provider down", err, codes.Unavailable)
		t.Logf("provider down: new opaque token: %v", err)

		p.start(t)
		deadline := time.Now().Add(15 * time.Second)
		for {
			c := dialToken(t, srv, fetchToken(t, p, opaqueAudience, scopeRead))
			if err = grpccredstest.HealthCheck(ctx, c); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no recovery within 15 s of the restart: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The provider keeps its tokens in memory: restarted, it no longer
		// knows the one issued before, and answers {"active": false}.
		err = grpccredstest.HealthCheck(ctx, cFresh)
		wantCode(t, "token the restarted provider forgot", err, codes.Unauthenticated)
		t.Logf("provider restarted: a new token passes; the forgotten one: %v", err)
	})
}
