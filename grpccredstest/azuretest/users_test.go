package azuretest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
)

// accessName is the name an answer's access token is issued to.
func accessName(t *testing.T, body map[string]any) any {
	t.Helper()
	claims := jwt.MapClaims{}
	access, _ := body["access_token"].(string)
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil {
		t.Fatalf("access token: %v", err)
	}
	return claims["name"]
}

// After SignInAs, the browser and device-code flows sign in the second
// person, and each person's refresh token brings tokens for that person.
func TestSignInAs(t *testing.T) {
	s := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	const verifier = "a-verifier-of-at-least-43-characters-0123456789"
	signIn := func() map[string]any {
		t.Helper()
		status, body := post(t, s, redeem(code(t, s, verifier), verifier, redirectURI))
		if status != http.StatusOK {
			t.Fatalf("redeeming the code: status %d, error %v", status, body["error"])
		}
		return body
	}
	ada := signIn()
	azuretest.SignInAs(s, azuretest.SecondUser())
	bob := signIn()
	if accessName(t, ada) != azuretest.User().Name || accessName(t, bob) != azuretest.SecondUser().Name {
		t.Fatalf("signed in %v, then %v; want %s, then %s", accessName(t, ada), accessName(t, bob), azuretest.User().Name, azuretest.SecondUser().Name)
	}
	if ada["refresh_token"] != "refresh-token-1" || bob["refresh_token"] == ada["refresh_token"] || ada["client_info"] == bob["client_info"] {
		t.Fatalf("refresh tokens %v and %v, client info %v and %v; want refresh-token-1 and another, and two client infos",
			ada["refresh_token"], bob["refresh_token"], ada["client_info"], bob["client_info"])
	}
	for _, person := range []struct {
		rt   any
		want string
	}{{ada["refresh_token"], azuretest.User().Name}, {bob["refresh_token"], azuretest.SecondUser().Name}} {
		rt, _ := person.rt.(string)
		status, body := post(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {"cli-app"}, "refresh_token": {rt}, "scope": {"api://test/.default"}})
		if status != http.StatusOK || accessName(t, body) != person.want {
			t.Fatalf("refresh with %s: status %d, token for %v; want 200 and %s", rt, status, accessName(t, body), person.want)
		}
	}

	dev := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"cli-app"}, "device_code": {"device-code-1"}}
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	resp, err := hc.PostForm(s.AuthorityURL+"/oauth2/v2.0/devicecode", url.Values{"client_id": {"cli-app"}, "scope": {"api://test/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	post(t, s, dev) // pending
	if status, body := post(t, s, dev); status != http.StatusOK || accessName(t, body) != azuretest.SecondUser().Name {
		t.Fatalf("device code: status %d, token for %v; want 200 and %s", status, accessName(t, body), azuretest.SecondUser().Name)
	}
	if azuretest.Username(azuretest.User()) != "ada@example.test" || azuretest.Username(azuretest.SecondUser()) != "bob@example.test" {
		t.Fatalf("usernames %s and %s", azuretest.Username(azuretest.User()), azuretest.Username(azuretest.SecondUser()))
	}
}
