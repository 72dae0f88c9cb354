package serverauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
)

// Introspected tokens meet RequiredClaims too, and answers with an exp
// that is not a number, an nbf ahead, or a refresh token's typ are refused.
func TestIntrospectionAnswerRules(t *testing.T) {
	in := startIntrospection(t)
	cfg := in.config()
	cfg.RequiredClaims = []string{"sub"}
	v := must(NewVerifier(cfg))
	defer v.Close()
	in.issue("good", nil)
	in.issue("no-sub", map[string]any{"sub": nil})
	in.issue("exp-string", map[string]any{"exp": "1"})
	in.issue("nbf-ahead", map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})
	in.issue("nbf-string", map[string]any{"nbf": "soon"})
	in.issue("nbf-past", map[string]any{"nbf": time.Now().Add(-time.Hour).Unix()})
	in.issue("keycloak-refresh", map[string]any{"token_type": nil, "typ": "Refresh"})
	in.issue("keycloak-offline", map[string]any{"typ": "Offline"})
	for tok, want := range map[string]codes.Code{
		"good": codes.OK, "nbf-past": codes.OK,
		"no-sub": codes.Unauthenticated, "exp-string": codes.Unauthenticated, "nbf-ahead": codes.Unauthenticated,
		"nbf-string": codes.Unauthenticated, "keycloak-refresh": codes.Unauthenticated, "keycloak-offline": codes.Unauthenticated,
	} {
		if _, err := v.Verify(context.Background(), tok); code(err) != want {
			t.Errorf("%s: %v, want %v", tok, err, want)
		}
	}
}

// At most maxIntrospections requests are in flight: callers with made-up
// tokens cannot multiply the load on the endpoint. Those past the bound
// get Unavailable.
func TestIntrospectionRequestsBounded(t *testing.T) {
	in := startIntrospection(t)
	in.set(func(in *introspection) { in.delay = 300 * time.Millisecond })
	v := must(NewVerifier(in.config()))
	defer v.Close()
	const callers = 3 * maxIntrospections
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[codes.Code]int{}
	for i := range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			_, err := v.Verify(ctx, fmt.Sprintf("made-up-%d", i))
			mu.Lock()
			got[code(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := in.requests.Load(); n > maxIntrospections {
		t.Errorf("%d introspection requests for %d callers, want at most %d", n, callers, maxIntrospections)
	}
	if got[codes.Unavailable] == 0 || got[codes.OK] != 0 {
		t.Errorf("outcomes %v: want some Unavailable past the bound, no OK", got)
	}
}

// Printing an Introspection, by value or by pointer, hides the secret.
func TestIntrospectionValuePrintsNoSecret(t *testing.T) {
	in := Introspection{URL: "https://id.example.test/introspect", ClientID: "api", ClientSecret: "s3cret-value"}
	for _, s := range []string{fmt.Sprint(in), fmt.Sprintf("%+v", in), fmt.Sprintf("%#v", in), fmt.Sprintf("%v", &in), fmt.Sprint((*Introspection)(nil))} {
		if strings.Contains(s, "s3cret-value") {
			t.Errorf("printed the secret: %s", s)
		}
	}
}

// Issuer.Claims with an empty value would match a missing claim: refused.
// (A claim that is not a string never matching is in TestIssuerClaims.)
func TestIssuerClaimsStrict(t *testing.T) {
	is := staticIssuer("k1")
	is.Claims = map[string]string{"tid": ""}
	if v, err := NewVerifier(Config{Issuers: []Issuer{is}}); err == nil {
		v.Close()
		t.Error("an empty Claims value accepted")
	}
}

// Type may be written as a media type; DiscoveryURL beside keys is refused.
func TestIssuerConfigForms(t *testing.T) {
	is := staticIssuer("k1")
	is.Type = "application/AT+JWT"
	v := must(NewVerifier(Config{Issuers: []Issuer{is}}))
	defer v.Close()
	if _, err := v.Verify(context.Background(), signHeader("k1", map[string]any{"kid": "k1", "typ": "at+jwt"}, baseClaims())); err != nil {
		t.Errorf(`Type "application/AT+JWT", typ "at+jwt": %v`, err)
	}
	is = staticIssuer("k1")
	is.DiscoveryURL = "https://id.example.test/.well-known/openid-configuration"
	if v, err := NewVerifier(Config{Issuers: []Issuer{is}}); err == nil {
		v.Close()
		t.Error("DiscoveryURL beside StaticKeys accepted")
	}
}

// A discovery document or JWKS that redirects to plain http is not
// followed: the keys could be replaced in transit.
func TestNoRedirectToPlainHTTP(t *testing.T) {
	srv := httptest.NewTLSServer(http.RedirectHandler("http://keys.example.test/jwks", http.StatusFound))
	defer srv.Close()
	var logs strings.Builder
	var mu sync.Mutex
	cfg := Config{HTTPClient: srv.Client(), Issuers: []Issuer{{URL: srv.URL, Audiences: []string{audience}}}}
	cfg.Logger = newTestLogger(&mu, &logs)
	v := must(NewVerifier(cfg))
	err := verifyWithin(v, sign("k1", issued(srv.URL, audience)))
	v.Close()
	if code(err) != codes.Unavailable {
		t.Errorf("%v, want Unavailable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "not https") {
		t.Errorf("log does not say the redirect was refused:\n%s", logs.String())
	}
}

// An empty role does not count as a role for RequireScopeOrRole.
func TestRequireScopeOrRoleIgnoresEmptyRoles(t *testing.T) {
	is := staticIssuer("k1")
	is.RequireScopeOrRole = true
	v := must(NewVerifier(Config{Issuers: []Issuer{is}}))
	defer v.Close()
	tok := sign("k1", with(func(c jwt.MapClaims) { c["roles"] = []string{""} }))
	if _, err := v.Verify(context.Background(), tok); code(err) != codes.Unauthenticated {
		t.Errorf("roles [\"\"]: %v, want Unauthenticated", err)
	}
}

// Introspection.SkipAudienceCheck admits an active token whatever its aud,
// or none; without it, the same answers are refused.
func TestIntrospectionSkipAudienceCheck(t *testing.T) {
	in := startIntrospection(t)
	in.issue("other-api", map[string]any{"aud": "api://other"})
	in.issue("no-aud", map[string]any{"aud": nil})
	strict := in.config()
	loose := in.config()
	loose.Introspection.Audiences, loose.Introspection.SkipAudienceCheck = nil, true
	for name, cfg := range map[string]Config{"strict": strict, "SkipAudienceCheck": loose} {
		v := must(NewVerifier(cfg))
		for _, tok := range []string{"other-api", "no-aud"} {
			_, err := v.Verify(context.Background(), tok)
			if want := map[string]codes.Code{"strict": codes.Unauthenticated, "SkipAudienceCheck": codes.OK}[name]; code(err) != want {
				t.Errorf("%s, %s: %v, want %v", name, tok, err, want)
			}
		}
		v.Close()
	}
}
