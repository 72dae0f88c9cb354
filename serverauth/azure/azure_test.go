package azure_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/serverauth"
	azureauth "github.com/grpccreds/grpccreds/serverauth/azure"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	home      = "3f2504e0-4f89-41d3-9a0c-0305e82c3301" // the API's home tenant
	partner   = "b7d9f3c1-2a4e-4c6b-8e1f-5a7d9c3b1e20" // a tenant a multi-tenant API admits
	stranger  = "e1c2d3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f" // a tenant no test admits
	apiClient = "0b8f5c3e-6d2a-4f1b-9c7e-2a4d6f8b0c1e" // the API's application (client) ID
	appIDURI  = "api://energy-trading"                 // the API's App ID URI
	otherAPI  = "9d1e3f5a-7b2c-4d6e-8f0a-1b3c5d7e9f2a" // another API's client ID
	caller    = "75dbe77f-10a3-4e59-85fd-8c127544f17c" // the client application calling the API
	userOID   = "02223b6b-aa1d-42d4-9ec0-1b2bb9194438"
	appOID    = "690222be-ff1a-4d56-abd1-7e4f7d38e474" // the caller's service principal
	v1Host    = "https://sts.windows.net"
)

// signer is Azure AD's signing key as the tests hold it: an RSA 2048 key,
// its self-signed certificate, and the certificate's SHA-1 thumbprint,
// which Azure AD uses as both kid and x5t.
type signer struct {
	key   *rsa.PrivateKey
	cert  *x509.Certificate
	thumb string
}

var azureKey = sync.OnceValue(func() signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	sum := sha1.Sum(der)
	return signer{key: key, cert: cert, thumb: base64.RawURLEncoding.EncodeToString(sum[:])}
})

// authority is Azure AD's key endpoint on 127.0.0.1 over HTTPS: it serves
// the one key set at /{tenant}/discovery/v2.0/keys for each of its tenants,
// as Microsoft serves the same keys for every tenant, and counts the
// requests by path.
type authority struct {
	srv      *httptest.Server
	tenants  []string
	mu       sync.Mutex
	requests map[string]int
}

func startAuthority(t *testing.T, tenants ...string) *authority {
	a := &authority{tenants: tenants, requests: map[string]int{}}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authority) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests[r.URL.Path]++
	a.mu.Unlock()
	tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/discovery/v2.0/keys")
	if !ok || !slices.Contains(a.tenants, tenant) {
		http.NotFound(w, r)
		return
	}
	// Like Microsoft's: kty, use, kid, x5t, n, e, x5c, and no alg.
	s := azureKey()
	jwk, err := jwkset.NewJWKFromKey(&s.key.PublicKey, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: s.thumb, USE: jwkset.UseSig},
		X509:     jwkset.JWKX509Options{X5C: []*x509.Certificate{s.cert}}})
	if err != nil {
		panic(err)
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(r.Context(), jwk); err != nil {
		panic(err)
	}
	raw, _ := store.JSONPublic(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

// fetches returns how often tenant's keys were requested.
func (a *authority) fetches(tenant string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests["/"+tenant+"/discovery/v2.0/keys"]
}

// v2Issuer is the iss of this authority's v2.0 tokens for tenant.
func (a *authority) v2Issuer(tenant string) string { return a.srv.URL + "/" + tenant + "/v2.0" }

// api is the test API, with this authority and the given other tenants.
func (a *authority) api(allowed ...string) azureauth.API {
	return azureauth.API{TenantID: home, ClientID: apiClient, AppIDURI: appIDURI, AllowedTenants: allowed, AuthorityHost: a.srv.URL}
}

// verifier returns a Verifier for api's issuers with cfg's other settings,
// closed when the test ends.
func (a *authority) verifier(t *testing.T, api azureauth.API, cfg serverauth.Config) *serverauth.Verifier {
	t.Helper()
	issuers, err := api.Issuers()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuers, cfg.HTTPClient = issuers, a.srv.Client()
	v, err := serverauth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// times are a fresh token's iat, nbf and exp (Azure AD: 60 to 90 minutes).
func times(c jwt.MapClaims) jwt.MapClaims {
	now := time.Now()
	c["iat"], c["nbf"], c["exp"] = now.Unix(), now.Unix(), now.Add(75*time.Minute).Unix()
	return c
}

// v1User is a v1.0 access token for aud that a user of tenant got through
// the client app, as Microsoft documents it (access token claims
// reference, and the sample v1.0 token on "Access tokens in the Microsoft
// identity platform").
func v1User(tenant, aud string) jwt.MapClaims {
	iss := v1Host + "/" + tenant + "/"
	return times(jwt.MapClaims{
		"aud": aud, "iss": iss, "idp": iss, "tid": tenant, "ver": "1.0",
		"acr": "1", "aio": "AXQAi/8IAAAAFm+E/QTG+gFnVxLjWdw8K+61AGrSOuMMF6ebaMj7XO3I", "amr": []string{"pwd", "mfa"},
		"appid": caller, "appidacr": "0",
		"name": "Ada Lovelace", "upn": "ada@contoso.example", "unique_name": "ada@contoso.example",
		"oid": userOID, "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
		"scp": "Orders.Read Orders.Write", "rh": "I", "uti": "FVsGxYXI30-TuikuuUoFAA",
	})
}

// v1App is a v1.0 access token for aud that the client app got for itself
// (client credentials): app roles, no user, no scp.
func v1App(tenant, aud string, roles ...string) jwt.MapClaims {
	iss := v1Host + "/" + tenant + "/"
	return times(jwt.MapClaims{
		"aud": aud, "iss": iss, "idp": iss, "tid": tenant, "ver": "1.0",
		"aio": "E2ZgYJjY9L1cr+mZ6HrD3z8qOx8A", "appid": caller, "appidacr": "1",
		"oid": appOID, "sub": appOID, "roles": roles, "rh": "I", "uti": "bF4r3Cc0IUWZ9pQhWq4xAA",
	})
}

// v2User is a v2.0 access token for aud that a user of tenant got through
// the client app, as Microsoft documents it (and its sample v2.0 token).
func (a *authority) v2User(tenant, aud string) jwt.MapClaims {
	return times(jwt.MapClaims{
		"aud": aud, "iss": a.v2Issuer(tenant), "tid": tenant, "ver": "2.0",
		"aio": "AXQAi/8IAAAAtAaZLo3ChMif6KOnttRB7eBq4/DccQzjcJGxPYy", "azp": caller, "azpacr": "0",
		"name": "Ada Lovelace", "preferred_username": "ada@contoso.example",
		"oid": userOID, "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
		"scp": "Orders.Read Orders.Write", "rh": "I", "uti": "fqiBqXLPj0eQa82S-IYFAA",
	})
}

// v2IDToken is the v2.0 ID token a user of tenant got signing in to the
// API's own app registration (a web app that is also the API): the same
// iss, aud (the client ID), tid and ver as an access token, but no scp and
// no roles, as Microsoft documents ID tokens (ID token claims reference).
func (a *authority) v2IDToken(tenant string) jwt.MapClaims {
	return times(jwt.MapClaims{
		"aud": apiClient, "iss": a.v2Issuer(tenant), "tid": tenant, "ver": "2.0",
		"name": "Ada Lovelace", "preferred_username": "ada@contoso.example", "oid": userOID,
		"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "nonce": "123523", "aio": "Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY",
		"rh": "0.AQMA", "uti": "rTBm1GXpM0iyQwKBJmHDAA",
	})
}

// sign signs c with Azure AD's key. The header is Azure AD's: typ "JWT",
// alg RS256, kid the key's thumbprint and, in v1.0 tokens only, the same
// value as x5t.
func sign(c jwt.MapClaims) string {
	s := azureKey()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = s.thumb
	if c["ver"] == "1.0" {
		t.Header["x5t"] = s.thumb
	}
	tok, err := t.SignedString(s.key)
	if err != nil {
		panic(err)
	}
	return tok
}

func verify(t *testing.T, v *serverauth.Verifier, token string) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return v.Verify(ctx, token)
}

// refused fails t unless err is Unauthenticated and its message has want.
func refused(t *testing.T, err error, want string) {
	t.Helper()
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), want) {
		t.Errorf("got %v, want Unauthenticated mentioning %q", err, want)
	}
}

// TestIssuers checks the exact issuers of a multi-tenant API in the global
// cloud: per tenant, v1.0 then v2.0, both audiences, tid and ver pinned,
// one keys URL per tenant.
func TestIssuers(t *testing.T) {
	got, err := azureauth.API{TenantID: home, ClientID: apiClient, AppIDURI: appIDURI, AllowedTenants: []string{partner}}.Issuers()
	if err != nil {
		t.Fatal(err)
	}
	auds := []string{apiClient, appIDURI}
	want := []serverauth.Issuer{
		{URL: "https://sts.windows.net/" + home + "/", Audiences: auds,
			JWKSURL: "https://login.microsoftonline.com/" + home + "/discovery/v2.0/keys", Claims: map[string]string{"tid": home, "ver": "1.0"}, RequireScopeOrRole: true},
		{URL: "https://login.microsoftonline.com/" + home + "/v2.0", Audiences: auds,
			JWKSURL: "https://login.microsoftonline.com/" + home + "/discovery/v2.0/keys", Claims: map[string]string{"tid": home, "ver": "2.0"}, RequireScopeOrRole: true},
		{URL: "https://sts.windows.net/" + partner + "/", Audiences: auds,
			JWKSURL: "https://login.microsoftonline.com/" + partner + "/discovery/v2.0/keys", Claims: map[string]string{"tid": partner, "ver": "1.0"}, RequireScopeOrRole: true},
		{URL: "https://login.microsoftonline.com/" + partner + "/v2.0", Audiences: auds,
			JWKSURL: "https://login.microsoftonline.com/" + partner + "/discovery/v2.0/keys", Claims: map[string]string{"tid": partner, "ver": "2.0"}, RequireScopeOrRole: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Issuers() =\n%+v\nwant\n%+v", got, want)
	}
	got[0].Audiences[0] = "changed"
	if got[1].Audiences[0] != apiClient {
		t.Error("two issuers share one Audiences slice")
	}
}

// TestIssuersNormalizes checks that GUIDs are lowered (tokens carry them in
// lower case), a trailing slash on a host is dropped, the App ID URI is
// optional, national-cloud hosts are used as given, and http is accepted
// to a loopback address.
func TestIssuersNormalizes(t *testing.T) {
	got, err := azureauth.API{TenantID: strings.ToUpper(home), ClientID: strings.ToUpper(apiClient),
		AuthorityHost: "https://login.chinacloudapi.cn/", V1IssuerHost: "https://sts.chinacloudapi.cn"}.Issuers()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].URL != "https://sts.chinacloudapi.cn/"+home+"/" || got[1].URL != "https://login.chinacloudapi.cn/"+home+"/v2.0" ||
		got[1].JWKSURL != "https://login.chinacloudapi.cn/"+home+"/discovery/v2.0/keys" ||
		!reflect.DeepEqual(got[0].Audiences, []string{apiClient}) || got[1].Claims["tid"] != home {
		t.Errorf("Issuers() = %+v", got)
	}
	got, err = azureauth.API{TenantID: home, ClientID: apiClient, AuthorityHost: "http://127.0.0.1:8400"}.Issuers()
	if err != nil || got[1].URL != "http://127.0.0.1:8400/"+home+"/v2.0" || got[0].URL != "https://sts.windows.net/"+home+"/" {
		t.Errorf("loopback authority: %+v, %v", got, err)
	}
}

// TestIssuersRefuses checks each input error: it names the setting, starts
// with "azure: ", and no issuers are returned.
func TestIssuersRefuses(t *testing.T) {
	good := azureauth.API{TenantID: home, ClientID: apiClient, AppIDURI: appIDURI}
	with := func(change func(*azureauth.API)) azureauth.API { a := good; change(&a); return a }
	for _, tc := range []struct {
		name string
		api  azureauth.API
		want []string
	}{
		{"no tenant", with(func(a *azureauth.API) { a.TenantID = "" }), []string{"TenantID is empty"}},
		{"no client ID", with(func(a *azureauth.API) { a.ClientID = "" }), []string{"ClientID is empty"}},
		{"both empty, both named", azureauth.API{}, []string{"TenantID is empty", "ClientID is empty"}},
		{"common", with(func(a *azureauth.API) { a.TenantID = "common" }), []string{`TenantID is "common"`, "not a tenant", "by its GUID"}},
		{"organizations", with(func(a *azureauth.API) { a.TenantID = "organizations" }), []string{`"organizations"`, "not a tenant"}},
		{"consumers", with(func(a *azureauth.API) { a.TenantID = "Consumers" }), []string{`"Consumers"`, "not a tenant"}},
		{"domain name", with(func(a *azureauth.API) { a.TenantID = "contoso.onmicrosoft.com" }), []string{"TenantID", "not a GUID", "not by a domain name"}},
		{"short GUID", with(func(a *azureauth.API) { a.TenantID = home[:35] }), []string{"not a GUID"}},
		{"App ID URI as client ID", with(func(a *azureauth.API) { a.ClientID = appIDURI }), []string{"ClientID", "not a GUID", "AppIDURI"}},
		{"allowed common", with(func(a *azureauth.API) { a.AllowedTenants = []string{partner, "common"} }), []string{`AllowedTenants[1] is "common"`}},
		{"allowed not a GUID", with(func(a *azureauth.API) { a.AllowedTenants = []string{"fabrikam.com"} }), []string{"AllowedTenants[0]", "not a GUID"}},
		{"allowed home", with(func(a *azureauth.API) { a.AllowedTenants = []string{strings.ToUpper(home)} }), []string{"AllowedTenants[0]", "listed already"}},
		{"allowed twice", with(func(a *azureauth.API) { a.AllowedTenants = []string{partner, partner} }), []string{"AllowedTenants[1]", "listed already"}},
		{"scope as App ID URI", with(func(a *azureauth.API) { a.AppIDURI = appIDURI + "/.default" }), []string{"AppIDURI", "is a scope"}},
		{"App ID URI without scheme", with(func(a *azureauth.API) { a.AppIDURI = "energy-trading" }), []string{"AppIDURI", "not an Application ID URI"}},
		{"App ID URI with a space", with(func(a *azureauth.API) { a.AppIDURI = "api://energy trading" }), []string{"AppIDURI", "space"}},
		{"http authority", with(func(a *azureauth.API) { a.AuthorityHost = "http://login.microsoftonline.com" }), []string{"AuthorityHost", "not https", "replaced in transit"}},
		{"http localhost by name", with(func(a *azureauth.API) { a.AuthorityHost = "http://localhost:8400" }), []string{"AuthorityHost", "not https"}},
		{"authority with a tenant", with(func(a *azureauth.API) { a.AuthorityHost = "https://login.microsoftonline.com/" + home }), []string{"AuthorityHost", "more than a scheme and a host"}},
		{"authority not a URL", with(func(a *azureauth.API) { a.AuthorityHost = "login.microsoftonline.com" }), []string{"AuthorityHost", "not an absolute URL"}},
		{"http v1 issuer host", with(func(a *azureauth.API) { a.V1IssuerHost = "http://sts.windows.net" }), []string{"V1IssuerHost", "not https"}},
		{"v1 issuer host with a query", with(func(a *azureauth.API) { a.V1IssuerHost = "https://sts.windows.net?x=1" }), []string{"V1IssuerHost", "more than a scheme and a host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuers, err := tc.api.Issuers()
			if err == nil || issuers != nil {
				t.Fatalf("got %v, %v; want an error", issuers, err)
			}
			if !strings.HasPrefix(err.Error(), "azure: ") {
				t.Errorf("%q does not start with \"azure: \"", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestAcceptsV1AndV2 verifies Microsoft-shaped tokens against keys served
// as Azure AD serves them: v1.0 for the App ID URI and for the client ID,
// a v1.0 app-only token, and v2.0 for the client ID. The tenant's keys are
// fetched once for both of its issuers.
func TestAcceptsV1AndV2(t *testing.T) {
	a := startAuthority(t, home)
	v := a.verifier(t, a.api(), serverauth.Config{RequiredClaims: []string{"oid", "tid"}})
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		ver    string
	}{
		{"v1.0, aud App ID URI", v1User(home, appIDURI), "1.0"},
		{"v1.0, aud client ID", v1User(home, apiClient), "1.0"},
		{"v1.0 app-only, aud App ID URI", v1App(home, appIDURI, "Trader"), "1.0"},
		{"v2.0, aud client ID", a.v2User(home, apiClient), "2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verify(t, v, sign(tc.claims))
			if err != nil {
				t.Fatal(err)
			}
			if c["ver"] != tc.ver || c["tid"] != home || c["oid"] != tc.claims["oid"] {
				t.Errorf("claims: ver %v, tid %v, oid %v", c["ver"], c["tid"], c["oid"])
			}
		})
	}
	if n := a.fetches(home); n != 1 {
		t.Errorf("the home tenant's keys were fetched %d times, want once for both issuers", n)
	}
}

// TestTenantBoundary refuses, with a key Azure AD really signs with, tokens
// whose issuer or tid is not the API's tenant, and tokens whose ver is not
// their issuer's.
func TestTenantBoundary(t *testing.T) {
	a := startAuthority(t, home, stranger)
	v := a.verifier(t, a.api(), serverauth.Config{})
	spoil := func(c jwt.MapClaims, change func(jwt.MapClaims)) jwt.MapClaims { change(c); return c }
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		want   string
	}{
		{"v1.0 of another tenant", v1User(stranger, appIDURI), "issuer (iss)"},
		{"v2.0 of another tenant", a.v2User(stranger, apiClient), "issuer (iss)"},
		{"v1.0 app-only of another tenant", v1App(stranger, appIDURI, "Trader"), "issuer (iss)"},
		{"v1.0 iss of the tenant, tid of another", spoil(v1User(home, appIDURI), func(c jwt.MapClaims) { c["tid"] = stranger }), "tid claim"},
		{"v2.0 iss of the tenant, tid of another", spoil(a.v2User(home, apiClient), func(c jwt.MapClaims) { c["tid"] = stranger }), "tid claim"},
		{"no tid", spoil(a.v2User(home, apiClient), func(c jwt.MapClaims) { delete(c, "tid") }), "tid claim"},
		{"v2.0 iss, ver 1.0", spoil(a.v2User(home, apiClient), func(c jwt.MapClaims) { c["ver"] = "1.0" }), "ver claim"},
		{"v1.0 iss, ver 2.0", spoil(v1User(home, appIDURI), func(c jwt.MapClaims) { c["ver"] = "2.0" }), "ver claim"},
		{"no ver", spoil(v1User(home, appIDURI), func(c jwt.MapClaims) { delete(c, "ver") }), "ver claim"},
		{"v2.0 issuer on the v1.0 host", spoil(a.v2User(home, apiClient), func(c jwt.MapClaims) { c["iss"] = v1Host + "/" + home + "/v2.0" }), "issuer (iss)"},
		{"tenant-independent issuer", spoil(a.v2User(home, apiClient), func(c jwt.MapClaims) { c["iss"] = a.srv.URL + "/{tenantid}/v2.0" }), "issuer (iss)"},
		{"v2.0 ID token for the API's own app", a.v2IDToken(home), "no scope and no role"},
		{"v1.0 access token with neither scp nor roles", spoil(v1User(home, appIDURI), func(c jwt.MapClaims) { delete(c, "scp") }), "no scope and no role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(t, v, sign(tc.claims))
			refused(t, err, tc.want)
		})
	}
	if n := a.fetches(stranger); n != 0 {
		t.Errorf("the other tenant's keys were fetched %d times", n)
	}
}

// TestMultiTenant admits the tokens of a tenant in AllowedTenants, in both
// formats, and only with AllowedTenants; a tenant not listed stays out.
func TestMultiTenant(t *testing.T) {
	a := startAuthority(t, home, partner, stranger)
	multi := a.verifier(t, a.api(partner), serverauth.Config{})
	single := a.verifier(t, a.api(), serverauth.Config{})
	for _, tok := range []string{sign(v1User(partner, appIDURI)), sign(v1App(partner, apiClient, "Trader")), sign(a.v2User(partner, apiClient))} {
		c, err := verify(t, multi, tok)
		if err != nil || c["tid"] != partner {
			t.Errorf("a token of an allowed tenant: %v, %v", c, err)
		}
		_, err = verify(t, single, tok)
		refused(t, err, "issuer (iss)")
	}
	if _, err := verify(t, multi, sign(a.v2User(home, apiClient))); err != nil {
		t.Errorf("a token of the home tenant: %v", err)
	}
	for _, tok := range []string{sign(v1User(stranger, appIDURI)), sign(a.v2User(stranger, apiClient))} {
		_, err := verify(t, multi, tok)
		refused(t, err, "issuer (iss)")
	}
	if a.fetches(partner) != 1 || a.fetches(stranger) != 0 {
		t.Errorf("keys fetched: partner %d times (want 1), stranger %d (want 0)", a.fetches(partner), a.fetches(stranger))
	}
}

// TestOtherAudience refuses tokens of the API's own tenant that are meant
// for another API, and v1.0 tokens for the App ID URI when AppIDURI is not
// set.
func TestOtherAudience(t *testing.T) {
	a := startAuthority(t, home)
	v := a.verifier(t, a.api(), serverauth.Config{})
	for name, c := range map[string]jwt.MapClaims{
		"v2.0 for another API":      a.v2User(home, otherAPI),
		"v1.0 for another API":      v1User(home, "api://other-api"),
		"v1.0 for Microsoft Graph":  v1User(home, "https://graph.microsoft.com"),
		"v1.0 app-only for another": v1App(home, otherAPI, "Trader"),
		"v1.0 for a lookalike URI":  v1User(home, appIDURI+"/"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verify(t, v, sign(c))
			refused(t, err, "audience (aud)")
		})
	}
	t.Run("App ID URI not configured", func(t *testing.T) {
		api := a.api()
		api.AppIDURI = ""
		v := a.verifier(t, api, serverauth.Config{})
		_, err := verify(t, v, sign(v1User(home, appIDURI)))
		refused(t, err, "audience (aud)")
		if _, err := verify(t, v, sign(v1User(home, apiClient))); err != nil {
			t.Errorf("v1.0 for the client ID: %v", err)
		}
	})
}

// TestScopesAndRoles authorizes calls through the unary interceptor: a
// user's v2.0 token by its delegated scopes, an application's v1.0 token
// by its app roles; a method listed for roles and scopes takes either.
func TestScopesAndRoles(t *testing.T) {
	a := startAuthority(t, home)
	v := a.verifier(t, a.api(), serverauth.Config{
		RequiredClaims: []string{"oid"},
		MethodRoles:    map[string][]string{"/trading.v1.Orders/*": {"Trader"}, "/trading.v1.Orders/Cancel": {"Trader"}},
		MethodScopes: map[string][]string{
			"/trading.v1.Orders/List":   {"Orders.Read"},
			"/trading.v1.Orders/Place":  {"Orders.Write"},
			"/trading.v1.Orders/Cancel": {"Orders.Admin"},
		},
		Skip: []string{"/grpc.health.v1.Health/Check"},
	})
	user := sign(a.v2User(home, apiClient)) // scp "Orders.Read Orders.Write", no roles
	trader := sign(v1App(home, appIDURI, "Trader"))
	reader := sign(v1App(home, appIDURI, "Reader"))
	intercept := v.UnaryServerInterceptor()
	call := func(token, method string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if token != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+token))
		}
		var oid string
		_, err := intercept(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
			oid = "(no claims)"
			if c, ok := serverauth.ClaimsFromContext(ctx); ok {
				oid, _ = c["oid"].(string)
			}
			return "ok", nil
		})
		return oid, err
	}
	for _, tc := range []struct {
		name, token, method string
		want                codes.Code
		oid                 string
	}{
		{"user: List by scope Orders.Read", user, "/trading.v1.Orders/List", codes.OK, userOID},
		{"user: Place by scope Orders.Write", user, "/trading.v1.Orders/Place", codes.OK, userOID},
		{"user: Cancel needs Orders.Admin", user, "/trading.v1.Orders/Cancel", codes.PermissionDenied, ""},
		{"user: Settle needs the role Trader", user, "/trading.v1.Orders/Settle", codes.PermissionDenied, ""},
		{"app: Settle by role Trader", trader, "/trading.v1.Orders/Settle", codes.OK, appOID},
		{"app: Cancel by role Trader", trader, "/trading.v1.Orders/Cancel", codes.OK, appOID},
		{"app without Trader: List", reader, "/trading.v1.Orders/List", codes.PermissionDenied, ""},
		{"app: List's own entry shadows the role wildcard", trader, "/trading.v1.Orders/List", codes.PermissionDenied, ""},
		{"another tenant's token", sign(a.v2User(stranger, apiClient)), "/trading.v1.Orders/List", codes.Unauthenticated, ""},
		{"no token", "", "/trading.v1.Orders/List", codes.Unauthenticated, ""},
		{"no token, skipped method", "", "/grpc.health.v1.Health/Check", codes.OK, "(no claims)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oid, err := call(tc.token, tc.method)
			if status.Code(err) != tc.want || oid != tc.oid {
				t.Errorf("got %v (handler saw oid %q), want %v (oid %q)", err, oid, tc.want, tc.oid)
			}
		})
	}
	_, err := call(user, "/trading.v1.Orders/Cancel")
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "[Trader]") || !strings.Contains(msg, "[Orders.Admin]") {
		t.Errorf("the refusal %q does not name the role and the scope that would do", msg)
	}
}

// TestExamplesOfBefore shows the defects of the server examples before
// serverauth/azure. docs/server.md and the package example paired the v2.0
// issuer with the App ID URI as audience, which no token Azure AD issues
// matches: v1.0 tokens carry the App ID URI but the sts.windows.net issuer,
// v2.0 tokens the v2.0 issuer but the client ID. The README paired the v2.0
// issuer with the client ID, which refuses v1.0 tokens, the format a new
// app registration gets. The issuers of API.Issuers accept both.
func TestExamplesOfBefore(t *testing.T) {
	a := startAuthority(t, home)
	keys := a.srv.URL + "/" + home + "/discovery/v2.0/keys"
	old := func(aud string) *serverauth.Verifier {
		v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: a.srv.Client(),
			Issuers: []serverauth.Issuer{{URL: a.v2Issuer(home), Audiences: []string{aud}, JWKSURL: keys}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	docs, readme, now := old(appIDURI), old(apiClient), a.verifier(t, a.api(), serverauth.Config{})
	v1, v2 := sign(v1User(home, appIDURI)), sign(a.v2User(home, apiClient))
	for _, tc := range []struct {
		name     string
		v        *serverauth.Verifier
		tok      string
		admitted bool
	}{
		{"docs/server.md of before, v1.0 token", docs, v1, false},
		{"docs/server.md of before, v2.0 token", docs, v2, false},
		{"README of before, v1.0 token", readme, v1, false},
		{"README of before, v2.0 token", readme, v2, true},
		{"API.Issuers, v1.0 token", now, v1, true},
		{"API.Issuers, v2.0 token", now, v2, true},
	} {
		_, err := verify(t, tc.v, tc.tok)
		if (err == nil) != tc.admitted {
			t.Errorf("%s: %v, want admitted = %v", tc.name, err, tc.admitted)
		}
		t.Logf("%s: %v", tc.name, err)
	}
}
