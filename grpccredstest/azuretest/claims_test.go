package azuretest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
)

// post sends a token request and decodes the JSON answer.
func post(t *testing.T, s *grpccredstest.IdentityProvider, form url.Values) (int, map[string]any) {
	t.Helper()
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	resp, err := hc.PostForm(s.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// times reads iat and nbf of an access token in Unix seconds.
func times(t *testing.T, body map[string]any) (iat, nbf int64) {
	t.Helper()
	access, _ := body["access_token"].(string)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil {
		t.Fatalf("access token: %v", err)
	}
	i, _ := claims["iat"].(float64)
	n, _ := claims["nbf"].(float64)
	return int64(i), int64(n)
}

func nbfClaims(at time.Time) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(at.Unix(), 10) + `"}}}`
}

func TestTokenEndpointHonoursClaims(t *testing.T) {
	s := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	s.Register("app", grpccredstest.Client{Secret: "s3cret", Identity: grpccredstest.Identity{Name: "svc", OID: "o-1"}})
	form := func(grant, claims string) url.Values {
		v := url.Values{"grant_type": {grant}, "client_id": {"app"}, "client_secret": {"s3cret"}}
		if claims != "" {
			v.Set("claims", claims)
		}
		return v
	}

	code, body := post(t, s, form("client_credentials", ""))
	if iat, nbf := times(t, body); code != http.StatusOK || nbf >= iat || azuretest.ClaimsRequests(s) != 0 {
		t.Fatalf("no claims: status %d, iat %d, nbf %d, claims requests %d", code, iat, nbf, azuretest.ClaimsRequests(s))
	}

	code, body = post(t, s, form("client_credentials", "{not json"))
	if code != http.StatusBadRequest || body["error"] != "invalid_request" || azuretest.ClaimsRequests(s) != 1 {
		t.Fatalf("bad claims: status %d, error %v, claims requests %d", code, body["error"], azuretest.ClaimsRequests(s))
	}

	code, _ = post(t, s, form("client_credentials", `{"access_token":{"nbf":{"value":"soon"}}}`))
	if code != http.StatusBadRequest {
		t.Fatalf("nbf value that is no number: status %d, want 400", code)
	}

	later := time.Now().Add(10 * time.Minute)
	for _, grant := range []string{"client_credentials", "refresh_token"} {
		code, body = post(t, s, form(grant, nbfClaims(later)))
		if iat, nbf := times(t, body); code != http.StatusOK || iat < later.Unix() || nbf < later.Unix() {
			t.Fatalf("%s with nbf %d: status %d, iat %d, nbf %d", grant, later.Unix(), code, iat, nbf)
		}
	}
	if n := azuretest.ClaimsRequests(s); n != 4 {
		t.Fatalf("claims requests = %d, want 4", n)
	}
}
