//go:build integration

package integration

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc/codes"
)

// tenantB is a second tenant, on a second provider: its own issuer, its own
// audience and its own signing key (with a key ID of its own).
var tenantB = tenantSpec{tenant: "66666666-7777-8888-9999-000000000000", audience: "api://grpccreds-tenant-b", kid: "integration-b-1"}

// TestSecondIssuer: a verifier trusting two issuers, each with its own
// JWKS, admits each issuer's tokens as that issuer's, and refuses a token
// signed with B's key that claims to be A's, though its signature is valid
// for B's key.
func TestSecondIssuer(t *testing.T) {
	a := startProvider(t)
	spec := tenantB
	spec.ca = a.ca // one CA: one HTTP client trusts both providers
	b := startTenant(t, spec)
	ctx := context.Background()
	v := newVerifier(t, serverauth.Config{HTTPClient: a.httpClient(), Issuers: []serverauth.Issuer{
		{URL: a.issuer(), Audiences: []string{a.audience}, JWKSURL: a.jwksURL(), Type: "at+jwt"},
		{URL: b.issuer(), Audiences: []string{b.audience}, JWKSURL: b.jwksURL(), Type: "at+jwt"},
	}})
	var seen admitted
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v, Check: seen.check})

	t.Run("each issuer's own token passes as that issuer", func(t *testing.T) {
		for _, p := range []*provider{a, b} {
			tok := fetchToken(t, p, "", p.audience+"/.default")
			if err := grpccredstest.HealthCheck(ctx, dialToken(t, srv, tok)); err != nil {
				t.Fatalf("token of %s: %v", p.issuer(), err)
			}
			got := seen.claims(t)
			if got["iss"] != p.issuer() || got["aud"] != p.audience {
				t.Fatalf("token of %s admitted with claims %v", p.issuer(), got)
			}
			t.Logf("provider token, kid %s: admitted as iss %s, aud %s", kidOf(t, tok), got["iss"], got["aud"])
		}
	})

	forge := func(t *testing.T, iss, aud string) string {
		now := time.Now()
		return signWith(t, b, jwt.MapClaims{"iss": iss, "aud": aud, "sub": clientID, "client_id": clientID,
			"scope": aud + "/.default", "jti": "forged-" + now.Format(time.RFC3339Nano),
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	}

	t.Run("B's key, minted here, signs for B", func(t *testing.T) {
		// The control: the minted token is acceptable when it says iss B.
		tok := forge(t, b.issuer(), b.audience)
		if err := grpccredstest.HealthCheck(ctx, dialToken(t, srv, tok)); err != nil {
			t.Fatalf("token signed with B's key, iss B: %v", err)
		}
		got := seen.claims(t)
		if got["iss"] != b.issuer() {
			t.Fatalf("admitted as %v", got["iss"])
		}
		t.Logf("minted with B's private key (kid %s), iss B: admitted as iss %s", kidOf(t, tok), got["iss"])
	})

	t.Run("B's key cannot sign for A", func(t *testing.T) {
		tok := forge(t, a.issuer(), a.audience)
		kf, err := keyfunc.NewJWKSetJSON(get(t, b, b.jwksURL()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"})); err != nil {
			t.Fatalf("the forged token's signature should be valid for B's published key: %v", err)
		}
		err = grpccredstest.HealthCheck(ctx, dialToken(t, srv, tok))
		wantCode(t, "token signed with B's key claiming iss A", err, codes.Unauthenticated)
		t.Logf("signed with B's key (kid %s, signature valid for B's JWKS), iss A, aud %s: %v", kidOf(t, tok), a.audience, err)
	})
}

// signWith signs claims with p's private signing key, read from the JWK the
// provider wrote to its JWKS_FILE, under p's key ID, as p signs access
// tokens (RS256, typ at+jwt).
func signWith(t *testing.T, p *provider, claims jwt.MapClaims) string {
	t.Helper()
	raw, err := os.ReadFile(p.jwksFile())
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.Key().(*rsa.PrivateKey)
	if !ok || k.Marshal().KID != p.kid {
		t.Fatalf("%s holds a %T with kid %q, want p's RSA private key, kid %q", p.jwksFile(), k.Key(), k.Marshal().KID, p.kid)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"], tok.Header["typ"] = p.kid, "at+jwt"
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kidOf returns the kid header of a JWT, unverified.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

// get reads a document of p.
func get(t *testing.T, p *provider, url string) json.RawMessage {
	t.Helper()
	resp, err := p.httpClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
