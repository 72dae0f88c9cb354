package azuretest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
)

const redirectURI = "http://localhost:53117/"

// challenge is the S256 PKCE challenge for verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeQuery is a valid authorization request for verifier.
func authorizeQuery(verifier string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {"cli-app"}, "redirect_uri": {redirectURI},
		"scope": {"api://test/.default openid offline_access"}, "state": {"st-1"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
}

// authorize sends an authorization request as a browser would, without
// following the redirect.
func authorize(t *testing.T, s *grpccredstest.IdentityProvider, q url.Values) *http.Response {
	t.Helper()
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(s.AuthorityURL + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// code signs in and returns the code the authority redirected with.
func code(t *testing.T, s *grpccredstest.IdentityProvider, verifier string) string {
	t.Helper()
	resp := authorize(t, s, authorizeQuery(verifier))
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: status %d, location %v", resp.StatusCode, err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI || loc.Query().Get("state") != "st-1" {
		t.Fatalf("redirected to %s with state %q", got, loc.Query().Get("state"))
	}
	return loc.Query().Get("code")
}

func redeem(code, verifier, redirect string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {"cli-app"}, "code": {code},
		"code_verifier": {verifier}, "redirect_uri": {redirect}, "scope": {"api://test/.default"}}
}

// A code is redeemed once, by the client that holds the PKCE verifier, for
// the redirect URI it was issued for.
func TestAuthorizationCodeWithPKCE(t *testing.T) {
	s := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	const verifier = "a-verifier-of-at-least-43-characters-0123456789"

	c := code(t, s, verifier)
	for _, bad := range []struct {
		name string
		form url.Values
	}{
		{"tampered verifier", redeem(c, verifier+"x", redirectURI)},
		{"spent code", redeem(c, verifier, redirectURI)}, // the failed attempt spent it
		{"unknown code", redeem("no-such-code", verifier, redirectURI)},
		{"other redirect", redeem(code(t, s, verifier), verifier, "http://localhost:53118/")},
		{"no verifier", redeem(code(t, s, verifier), "", redirectURI)},
	} {
		if status, body := post(t, s, bad.form); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("%s: status %d, error %v; want 400 invalid_grant", bad.name, status, body["error"])
		}
	}

	c = code(t, s, verifier)
	status, body := post(t, s, redeem(c, verifier, redirectURI))
	if status != http.StatusOK {
		t.Fatalf("redeeming with the verifier: status %d, error %v", status, body["error"])
	}
	claims := jwt.MapClaims{}
	access, _ := body["access_token"].(string)
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil || claims["name"] != azuretest.User().Name {
		t.Fatalf("access token for %v (%v), want %s", claims["name"], err, azuretest.User().Name)
	}
	for _, field := range []string{"refresh_token", "id_token", "client_info"} {
		if body[field] == "" || body[field] == nil {
			t.Errorf("no %s in the answer", field)
		}
	}
	if status, _ := post(t, s, redeem(c, verifier, redirectURI)); status != http.StatusBadRequest {
		t.Fatalf("a redeemed code was accepted again: status %d", status)
	}
	if n := azuretest.AuthorizeRequests(s); n != 4 {
		t.Fatalf("authorize requests = %d, want 4", n)
	}
}

func TestAuthorizeRefusesBadRequests(t *testing.T) {
	s := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	for name, change := range map[string]func(url.Values){
		"no challenge":        func(q url.Values) { q.Del("code_challenge") },
		"plain challenge":     func(q url.Values) { q.Set("code_challenge_method", "plain") },
		"implicit flow":       func(q url.Values) { q.Set("response_type", "token") },
		"no client":           func(q url.Values) { q.Del("client_id") },
		"https redirect":      func(q url.Values) { q.Set("redirect_uri", "https://localhost:53117/") },
		"remote redirect":     func(q url.Values) { q.Set("redirect_uri", "http://example.test:53117/") },
		"redirect no port":    func(q url.Values) { q.Set("redirect_uri", "http://localhost/") },
		"redirect with login": func(q url.Values) { q.Set("redirect_uri", "http://u:p@127.0.0.1:53117/") },
	} {
		q := authorizeQuery("v")
		change(q)
		if resp := authorize(t, s, q); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d, location %q; want 400 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// With response_mode=form_post, as MSAL asks, the code and state come in a
// form that posts them to the redirect URI.
func TestAuthorizeFormPost(t *testing.T) {
	s := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	q := authorizeQuery("v")
	q.Set("response_mode", "form_post")
	resp := authorize(t, s, q)
	page, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`method="post"`, `action="` + redirectURI + `"`, `name="code" value="`, `name="state" value="st-1"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), want) {
			t.Fatalf("status %d, page without %s:\n%s", resp.StatusCode, want, page)
		}
	}
}
