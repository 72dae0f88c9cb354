package grpccredstest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	jwtBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	tokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	assertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
)

// poster posts forms to an identity provider's token endpoint.
type poster struct {
	t   *testing.T
	idp *grpccredstest.IdentityProvider
	hc  *http.Client
}

func newPoster(t *testing.T, idp *grpccredstest.IdentityProvider) poster {
	hc := idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return poster{t, idp, hc}
}

// post sends form and returns the status and the JSON body.
func (p poster) post(form url.Values) (int, map[string]any) {
	p.t.Helper()
	resp, err := p.hc.PostForm(p.idp.TokenURL, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		p.t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// want posts form and fails the test unless the answer has the status and,
// for an error, the OAuth2 error code; it returns the body.
func (p poster) want(name string, form url.Values, code int, oauthErr string) map[string]any {
	p.t.Helper()
	got, body := p.post(form)
	if got != code || (oauthErr != "" && body["error"] != oauthErr) {
		p.t.Errorf("%s: %d %v (%v), want %d %s", name, got, body["error"], body["error_description"], code, oauthErr)
	}
	return body
}

// issued verifies an access token the identity provider issued, and
// returns its claims.
func issued(t *testing.T, idp *grpccredstest.IdentityProvider, body map[string]any) jwt.MapClaims {
	t.Helper()
	raw, _ := body["access_token"].(string)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return idp.Signer.PublicKey, nil }); err != nil {
		t.Fatalf("issued token: %v", err)
	}
	return claims
}

// assertion signs a client assertion for client with key by method, with
// claims that change overrides (a nil value removes a claim).
func assertion(t *testing.T, method jwt.SigningMethod, key crypto.Signer, client, aud string, change map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"iss": client, "sub": client, "aud": aud, "jti": rand.Text(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range change {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	a, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func clientAssertion(client, a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {client},
		"client_assertion_type": {assertionType}, "client_assertion": {a}}
}

func TestPrivateKeyJWT(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	idp.Register("pkj-rsa", grpccredstest.Client{AssertionKey: &rsaKey.PublicKey, Identity: grpccredstest.Identity{Name: "rsa-app"}})
	idp.Register("pkj-ec", grpccredstest.Client{AssertionKey: &ecKey.PublicKey, Identity: grpccredstest.Identity{Name: "ec-app"}})
	idp.Register("loose", grpccredstest.Client{Identity: grpccredstest.Identity{Name: "msal-cert-app"}})
	p := newPoster(t, idp)
	rs := func(change map[string]any) string {
		return assertion(t, jwt.SigningMethodRS256, rsaKey, "pkj-rsa", idp.TokenURL, change)
	}

	good := rs(nil)
	body := p.want("RS256", clientAssertion("pkj-rsa", good), 200, "")
	if c := issued(t, idp, body); c["name"] != "rsa-app" {
		t.Errorf("token for %v, want rsa-app", c["name"])
	}
	p.want("replayed jti", clientAssertion("pkj-rsa", good), 401, "invalid_client")
	p.want("aud is the issuer", clientAssertion("pkj-rsa", assertion(t, jwt.SigningMethodRS256, rsaKey, "pkj-rsa", idp.Issuer, nil)), 200, "")
	p.want("aud list", clientAssertion("pkj-rsa", rs(map[string]any{"aud": []string{"x", idp.TokenURL}})), 200, "")
	p.want("PS256", clientAssertion("pkj-rsa", assertion(t, jwt.SigningMethodPS256, rsaKey, "pkj-rsa", idp.TokenURL, nil)), 200, "")
	p.want("ES256", clientAssertion("pkj-ec", assertion(t, jwt.SigningMethodES256, ecKey, "pkj-ec", idp.TokenURL, nil)), 200, "")

	for name, a := range map[string]string{
		"wrong key":            assertion(t, jwt.SigningMethodRS256, otherKey, "pkj-rsa", idp.TokenURL, nil),
		"wrong aud":            rs(map[string]any{"aud": "https://elsewhere.example/token"}),
		"no aud":               rs(map[string]any{"aud": nil}),
		"expired":              rs(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}),
		"no exp":               rs(map[string]any{"exp": nil}),
		"exp too far":          rs(map[string]any{"exp": time.Now().Add(11 * time.Minute).Unix()}),
		"no jti":               rs(map[string]any{"jti": nil}),
		"iss not the client":   rs(map[string]any{"iss": "someone-else"}),
		"sub not the client":   rs(map[string]any{"sub": "someone-else"}),
		"not yet valid":        rs(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}),
		"garbage":              "h.x.sig",
		"RS256 for an EC key":  "", // filled below
		"unsigned (alg none)":  "", // filled below
		"other client's token": assertion(t, jwt.SigningMethodES256, ecKey, "pkj-ec", idp.TokenURL, nil),
	} {
		client := "pkj-rsa"
		switch name {
		case "RS256 for an EC key":
			client, a = "pkj-ec", assertion(t, jwt.SigningMethodRS256, rsaKey, "pkj-ec", idp.TokenURL, nil)
		case "unsigned (alg none)":
			claims := jwt.MapClaims{"iss": client, "sub": client, "aud": idp.TokenURL, "jti": rand.Text(), "exp": time.Now().Add(time.Minute).Unix()}
			a, _ = jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		}
		p.want(name, clientAssertion(client, a), 401, "invalid_client")
	}

	// The form must name the client and the assertion type.
	noID := clientAssertion("pkj-rsa", rs(nil))
	noID.Del("client_id")
	p.want("no client_id", noID, 401, "invalid_client")
	noType := clientAssertion("pkj-rsa", rs(nil))
	noType.Set("client_assertion_type", "urn:example:other")
	p.want("wrong assertion type", noType, 401, "invalid_client")

	// Without an AssertionKey any three-part assertion does, as MSAL's
	// certificate credentials need.
	p.want("no AssertionKey", clientAssertion("loose", "h.x.sig"), 200, "")

	// tokensource's signed assertions verify.
	for _, tc := range []struct {
		client string
		key    crypto.Signer
		opts   []tokensource.AssertionOption
	}{{"pkj-rsa", rsaKey, nil}, {"pkj-rsa", rsaKey, []tokensource.AssertionOption{tokensource.WithPSS()}}, {"pkj-ec", ecKey, nil}} {
		sign, err := tokensource.SignedAssertion(tc.client, tc.key, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		a, err := sign(context.Background(), idp.TokenURL)
		if err != nil {
			t.Fatal(err)
		}
		p.want("tokensource.SignedAssertion for "+tc.client, clientAssertion(tc.client, a), 200, "")
	}
}

func TestJWTBearerGrant(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("app", grpccredstest.Client{Secret: "s3cret"})
	p := newPoster(t, idp)
	ada := grpccredstest.Identity{Name: "Ada", OID: "oid-ada", Roles: []string{"Trader"}}
	grant := func(a string) url.Values { return url.Values{"grant_type": {jwtBearer}, "assertion": {a}} }
	mint := func(s *grpccredstest.Signer, c grpccredstest.Claims) string {
		c.Identity = ada
		c.Audience = idp.TokenURL
		tok, err := s.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	body := p.want("own signer", grant(mint(idp.Signer, grpccredstest.Claims{Extra: map[string]any{"sub": "ada-sub"}})), 200, "")
	c := issued(t, idp, body)
	if c["sub"] != "ada-sub" || c["name"] != "Ada" || c["oid"] != "oid-ada" || c["aud"] != "api://orders" ||
		body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Errorf("issued sub %v name %v oid %v aud %v; answer %v %v", c["sub"], c["name"], c["oid"], c["aud"], body["token_type"], body["expires_in"])
	}
	p.want("aud is the issuer", grant(mint(idp.Signer, grpccredstest.Claims{Extra: map[string]any{"aud": idp.Issuer}})), 200, "")

	ci := grpccredstest.NewSigner(t, "https://ci.example", "unused")
	fromCI := mint(ci, grpccredstest.Claims{})
	p.want("untrusted issuer", grant(fromCI), 400, "invalid_grant")
	idp.TrustIssuer(ci.Issuer, ci.PublicKey)
	p.want("trusted issuer", grant(fromCI), 200, "")
	impostor := grpccredstest.NewSigner(t, "https://ci.example", "unused")
	p.want("trusted issuer, other key", grant(mint(impostor, grpccredstest.Claims{})), 400, "invalid_grant")
	p.want("own issuer, other key", grant(mint(grpccredstest.NewSigner(t, idp.Issuer, "x"), grpccredstest.Claims{})), 400, "invalid_grant")
	idp.TrustIssuer(ci.Issuer, nil)
	p.want("trust withdrawn", grant(fromCI), 400, "invalid_grant")

	p.want("expired", grant(mint(idp.Signer, grpccredstest.Claims{Expiry: time.Now().Add(-time.Minute)})), 400, "invalid_grant")
	p.want("no exp", grant(mint(idp.Signer, grpccredstest.Claims{Extra: map[string]any{"exp": nil}})), 400, "invalid_grant")
	p.want("wrong aud", grant(mint(idp.Signer, grpccredstest.Claims{Extra: map[string]any{"aud": "api://orders"}})), 400, "invalid_grant")
	p.want("garbage", grant("h.x.sig"), 400, "invalid_grant")

	// A request that names a client must authenticate it.
	named := grant(mint(idp.Signer, grpccredstest.Claims{}))
	named.Set("client_id", "app")
	named.Set("client_secret", "wrong")
	p.want("client with a wrong secret", named, 401, "invalid_client")
	named.Set("client_secret", "s3cret")
	p.want("client with its secret", named, 200, "")
}

func TestTokenExchange(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("gateway", grpccredstest.Client{Secret: "s3cret"})
	p := newPoster(t, idp)
	ada := grpccredstest.Identity{Name: "Ada", OID: "oid-ada", Roles: []string{"Trader"}}
	subject, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada, Audience: "api://gateway"})
	actor, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "gw", OID: "oid-gateway"}})
	exchange := func(change url.Values) url.Values {
		v := url.Values{"grant_type": {tokenExchange}, "client_id": {"gateway"}, "client_secret": {"s3cret"},
			"subject_token": {subject}, "subject_token_type": {accessTokenType}}
		for k, x := range change {
			if len(x) == 0 {
				v.Del(k)
				continue
			}
			v[k] = x
		}
		return v
	}

	body := p.want("with an actor", exchange(url.Values{"actor_token": {actor}, "actor_token_type": {accessTokenType},
		"audience": {"api://ledger"}, "requested_token_type": {accessTokenType}}), 200, "")
	c := issued(t, idp, body)
	act, _ := c["act"].(map[string]any)
	if body["issued_token_type"] != accessTokenType || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Errorf("answer: issued_token_type %v, token_type %v, expires_in %v", body["issued_token_type"], body["token_type"], body["expires_in"])
	}
	if c["sub"] != "oid-ada" || c["name"] != "Ada" || c["oid"] != "oid-ada" || fmt.Sprint(c["roles"]) != "[Trader]" ||
		c["aud"] != "api://ledger" || act["sub"] != "oid-gateway" {
		t.Errorf("issued sub %v name %v oid %v roles %v aud %v act %v", c["sub"], c["name"], c["oid"], c["roles"], c["aud"], c["act"])
	}
	c = issued(t, idp, p.want("no actor, no audience", exchange(url.Values{"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}), 200, ""))
	if _, ok := c["act"]; ok || c["aud"] != "api://orders" {
		t.Errorf("without an actor or audience: act %v, aud %v; want none and the Signer's", c["act"], c["aud"])
	}

	p.want("no client authentication", exchange(url.Values{"client_id": nil, "client_secret": nil}), 401, "invalid_client")
	p.want("wrong secret", exchange(url.Values{"client_secret": {"nope"}}), 401, "invalid_client")
	foreign, _ := grpccredstest.NewSigner(t, idp.Issuer, "api://gateway").Mint(grpccredstest.Claims{Identity: ada})
	p.want("foreign subject", exchange(url.Values{"subject_token": {foreign}}), 400, "invalid_grant")
	expired, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada, Expiry: time.Now().Add(-time.Minute)})
	p.want("expired subject", exchange(url.Values{"subject_token": {expired}}), 400, "invalid_grant")
	p.want("foreign actor", exchange(url.Values{"actor_token": {foreign}, "actor_token_type": {accessTokenType}}), 400, "invalid_grant")
	p.want("no subject", exchange(url.Values{"subject_token": nil}), 400, "invalid_request")
	p.want("id_token subject", exchange(url.Values{"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}), 400, "invalid_request")
	p.want("actor without type", exchange(url.Values{"actor_token": {actor}}), 400, "invalid_request")
	p.want("SAML wanted", exchange(url.Values{"requested_token_type": {"urn:ietf:params:oauth:token-type:saml2"}}), 400, "invalid_request")

	idp.SetExchangeAnswer("urn:ietf:params:oauth:token-type:id_token", "N_A")
	body = p.want("odd answer", exchange(nil), 200, "")
	if body["issued_token_type"] != "urn:ietf:params:oauth:token-type:id_token" || body["token_type"] != "N_A" {
		t.Errorf("SetExchangeAnswer: issued_token_type %v, token_type %v", body["issued_token_type"], body["token_type"])
	}
	idp.SetExchangeAnswer("", "")
	if body = p.want("normal again", exchange(nil), 200, ""); body["issued_token_type"] != accessTokenType || body["token_type"] != "Bearer" {
		t.Errorf("after SetExchangeAnswer(\"\", \"\"): issued_token_type %v, token_type %v", body["issued_token_type"], body["token_type"])
	}
}

// tokensource's token exchange against the identity provider, the client
// authenticating with a signed assertion; and its checks of an answer that
// is not a bearer token.
func TestTokenExchangeWithTokensource(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp.Register("gateway", grpccredstest.Client{AssertionKey: &key.PublicKey})
	sign, err := tokensource.SignedAssertion("gateway", key)
	if err != nil {
		t.Fatal(err)
	}
	hc := idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	user := tokensource.OnBehalfOf(ctx, &clientcredentials.Config{ClientID: "gateway", TokenURL: idp.TokenURL},
		tokensource.Exchange{Audience: []string{"api://ledger"}}, tokensource.WithClientAssertion(sign))
	incoming, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "Ada", OID: "oid-ada"}, Audience: "api://gateway"})

	tok, err := user(context.Background(), incoming)
	if err != nil {
		t.Fatal(err)
	}
	c := issued(t, idp, map[string]any{"access_token": tok.AccessToken})
	if c["oid"] != "oid-ada" || c["aud"] != "api://ledger" {
		t.Errorf("exchanged token for %v, aud %v", c["oid"], c["aud"])
	}
	for _, answer := range [][2]string{{"", "N_A"}, {"urn:ietf:params:oauth:token-type:id_token", ""}} {
		idp.SetExchangeAnswer(answer[0], answer[1])
		if _, err := user(context.Background(), incoming); status.Code(err) != codes.Unauthenticated {
			t.Errorf("answer %q: %v, want Unauthenticated", answer, err)
		}
	}
}

// The on-behalf-of flow at the HTTP level; tokensource/azure tests it with
// MSAL.
func TestOnBehalfOfGrant(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "my-tenant", "api://orders")
	idp.Register("middle", grpccredstest.Client{Secret: "s3cret"})
	p := newPoster(t, idp)
	ada := grpccredstest.Identity{Name: "Ada", OID: "oid-ada", Roles: []string{"Trader"}}
	obo := func(aud, scope string) url.Values {
		a, _ := idp.Signer.Mint(grpccredstest.Claims{Identity: ada, Audience: aud})
		return url.Values{"grant_type": {jwtBearer}, "requested_token_use": {"on_behalf_of"}, "assertion": {a},
			"client_id": {"middle"}, "client_secret": {"s3cret"}, "scope": {scope}}
	}
	for aud, resource := range map[string]string{"middle": "api://downstream", "api://middle": "https://graph.example"} {
		scope := "api://downstream/.default openid offline_access profile"
		if resource != "api://downstream" {
			scope = "https://graph.example/User.Read openid"
		}
		body := p.want("aud "+aud, obo(aud, scope), 200, "")
		c := issued(t, idp, body)
		if c["aud"] != resource || c["oid"] != "oid-ada" || fmt.Sprint(c["roles"]) != "[Trader]" ||
			body["id_token"] == nil || body["client_info"] == nil || body["refresh_token"] != nil {
			t.Errorf("aud %s: issued aud %v oid %v roles %v; id_token %v, client_info %v, refresh_token %v",
				aud, c["aud"], c["oid"], c["roles"], body["id_token"] != nil, body["client_info"] != nil, body["refresh_token"] != nil)
		}
	}
	p.want("assertion for another app", obo("api://other", "api://downstream/.default"), 400, "invalid_grant")
	wrongSecret := obo("middle", "api://downstream/.default")
	wrongSecret.Set("client_secret", "nope")
	p.want("wrong secret", wrongSecret, 401, "invalid_client")
	p.want("two resources", obo("middle", "api://a/.default api://b/.default"), 400, "invalid_scope")
	if n := idp.OnBehalfOfRequests(); n != 5 {
		t.Errorf("OnBehalfOfRequests = %d, want 5", n)
	}
}
