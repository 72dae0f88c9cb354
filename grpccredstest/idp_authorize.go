package grpccredstest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"
)

// codeGrant is what redeeming an authorization code must match: the client
// it was issued to, its redirect URI and its PKCE challenge; and the person
// who signed in.
type codeGrant struct {
	clientID, redirectURI, challenge string
	user                             Identity
}

// authorize is the authorization endpoint of the authorization-code flow
// with PKCE, for public clients on a loopback redirect URI. The person
// signing in (see azuretest.SignInAs) is signed in at once, without a login
// page: the browser is sent back to redirect_uri with a one-time code and the state,
// by a 302 or, for response_mode=form_post (which MSAL asks for), by a page
// whose form posts them. Any invalid request is answered 400 and redirected
// nowhere.
func (s *IdentityProvider) authorize(w http.ResponseWriter, r *http.Request) {
	s.azure.AuthorizeRequests.Add(1)
	q := r.URL.Query()
	redirect, err := checkAuthorize(q)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: "+err.Error()))
		return
	}
	back := url.Values{"code": {s.newCode(q)}}
	if state := q.Get("state"); state != "" {
		back.Set("state", state)
	}
	if q.Get("response_mode") == "form_post" {
		formPost(w, redirect, back)
		return
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// checkAuthorize validates an authorization request and returns its
// redirect URI.
func checkAuthorize(q url.Values) (*url.URL, error) {
	switch {
	case q.Get("response_type") != "code":
		return nil, errors.New("response_type must be code")
	case q.Get("client_id") == "" || q.Get("scope") == "":
		return nil, errors.New("client_id and scope are required")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		return nil, errors.New("a code_challenge with code_challenge_method S256 is required")
	}
	return loopbackRedirect(q.Get("redirect_uri"))
}

// loopbackRedirect accepts http://localhost:PORT or http://127.0.0.1:PORT,
// with any path, as a native client's redirect URI.
func loopbackRedirect(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Port() == "" ||
		(u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") {
		return nil, errors.New("redirect_uri must be http://localhost or http://127.0.0.1 with a port")
	}
	return u, nil
}

// newCode issues a one-time code for the authorization request q.
func (s *IdentityProvider) newCode(q url.Values) string {
	code := rand.Text()
	user := Identity(s.azure.SigningIn())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = codeGrant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), user: user}
	return code
}

var formPostPage = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><title>Working...</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range $name, $values := .Fields}}{{range $values}}<input type="hidden" name="{{$name}}" value="{{.}}">
{{end}}{{end}}</form></body></html>
`))

// formPost answers with a page whose form posts fields to action, as the
// form_post response mode does.
func formPost(w http.ResponseWriter, action *url.URL, fields url.Values) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	formPostPage.Execute(w, struct {
		Action string
		Fields url.Values
	}{action.String(), fields})
}

// redeemCode answers the authorization_code grant. The code must be known
// and unused (a code is spent by any attempt to redeem it), issued to the
// same client for the same redirect URI, and the code_verifier must hash to
// its challenge: base64url(SHA-256(code_verifier)). Anything else is 400
// invalid_grant.
func (s *IdentityProvider) redeemCode(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	f := r.PostForm
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code"))
	s.mu.Unlock()
	if !ok || g.clientID != f.Get("client_id") || g.redirectURI != f.Get("redirect_uri") || !pkceMatches(f.Get("code_verifier"), g.challenge) {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "AADSTS70008: the authorization code is invalid, spent, or was not issued for this request"))
		return
	}
	s.userToken(w, r, g.user, notBefore)
}

// pkceMatches reports whether verifier hashes to the S256 challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return verifier != "" && subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
