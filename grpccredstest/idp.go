package grpccredstest

import (
	"cmp"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/grpccreds/grpccreds/internal/kitlink"
)

// Mode is how the identity provider behaves: healthy, down, or misbehaving
// at its token endpoints.
type Mode int32

// The identity provider's behaviours. Down closes its listeners and every
// connection, so that clients get "connection refused", as in an outage;
// any other mode brings it back on the same addresses.
const (
	Healthy       Mode = iota
	Fail500            // answers 500 with an error body
	Fail429            // answers 429 with Retry-After: 7
	Garbage            // answers 200 with a body that is not JSON
	InvalidClient      // answers 401 invalid_client to everyone
	BlackHole          // never answers (until the request's context ends)
	Slow               // answers after 10 seconds
	Malformed          // answers 200 with a token response that does not parse (expires_in "soon"), carrying MalformedMarker
	Down               // is down: connections are refused
)

// MalformedMarker is the access token in the Malformed mode's answer; it must
// never appear in an error.
const MalformedMarker = "eyJhbGciOiJub25lIn0.malformed-answer-marker-4c2e.sig"

// Client is an application registered at the identity provider.
type Client struct {
	Secret string // empty: only client assertions are accepted
	// Identity is whom the client's tokens are issued to.
	Identity Identity
	// AssertionKey, if set, verifies the client's assertions
	// (private_key_jwt, RFC 7523 §2.2): the client_id form value must name
	// the client, and the assertion must be signed by this key (RS256 or
	// PS256 for an *rsa.PublicKey, ES256 for an *ecdsa.PublicKey on P-256),
	// with iss and sub the client ID, an aud holding the identity provider's
	// TokenURL or Issuer, an exp in the future and at most 10 minutes away,
	// and a jti not seen before; anything else is 401 invalid_client. If it
	// is nil, any three-part assertion is accepted, as MSAL's certificate
	// credentials need.
	AssertionKey crypto.PublicKey
}

// IdentityProvider is an Azure AD / OIDC identity provider over HTTPS on
// 127.0.0.1, good enough for MSAL Go, azidentity and x/oauth2: OIDC
// discovery in the Azure AD layout, a token endpoint for the
// client-credentials grant (secret or assertion) and a JWKS. It signs with
// its Signer, counts token requests, can misbehave or go down and come back
// on the same port (SetMode).
//
// It also serves the device-code, authorization-code (PKCE) and
// refresh-token grants and Azure's managed-identity endpoints, which
// package grpccredstest/azuretest configures and observes. And it serves:
//
//   - the JWT bearer grant (RFC 7523 §2.1): an assertion signed by the
//     Signer or an issuer of [IdentityProvider.TrustIssuer], unexpired,
//     whose aud holds TokenURL or Issuer, buys a token for its sub (with
//     its name, oid and roles). A request that names a client (client_id)
//     must authenticate it. A bad assertion is 400 invalid_grant;
//   - token exchange (RFC 8693), for an authenticated client (else 401
//     invalid_client): an unexpired subject token (of type access_token or
//     jwt) of the Signer or a trusted issuer, for any aud, buys a token with
//     its sub, name, oid and roles, for the requested audience (by default
//     the Signer's), with an act claim naming the actor token's sub if one
//     is given. A bad subject or actor token is 400 invalid_grant, a token
//     type other than access_token or jwt 400 invalid_request;
//   - Azure AD's on-behalf-of flow (a JWT bearer grant with
//     requested_token_use=on_behalf_of, as MSAL's AcquireTokenOnBehalfOf
//     sends), for an authenticated client: the assertion must be an
//     unexpired token of the Signer whose aud is the client's ID or
//     "api://" and the ID (else 400 invalid_grant), and buys a token for
//     the same person whose aud is the resource of the requested scope
//     ("api://x/.default" gives "api://x"), with the id_token and
//     client_info MSAL caches it by, and no refresh token, so that a
//     request with claims (MSAL's WithClaims) is a new on-behalf-of
//     request.
//
// A client authenticates the same way (secret or assertion, see
// [Client.AssertionKey]) in every grant.
//
// The token endpoint honours an optional claims parameter: it must be JSON
// (else 400 invalid_request), and an access_token nbf demand (Azure AD's
// continuous access evaluation challenge) makes the issued token's iat and
// nbf no earlier than the time it names.
type IdentityProvider struct {
	// URL is https://127.0.0.1:PORT, what azidentity and MSAL call the
	// authority host.
	URL string
	// Tenant is the tenant in its URLs.
	Tenant string
	// AuthorityURL is what MSAL takes as its authority: URL/Tenant.
	AuthorityURL string
	// Issuer is the iss of the tokens and of the discovery document.
	Issuer string
	// TokenURL is the token endpoint; JWKSURL is where the signing key is
	// published.
	TokenURL string
	JWKSURL  string
	// CA signed the identity provider's certificate.
	CA *CA
	// Signer signs its tokens; its Issuer is Issuer and its Audience the
	// audience NewIdentityProvider was given. A token it mints verifies
	// against JWKSURL.
	Signer *Signer

	t         testing.TB
	mu        sync.Mutex
	clients   map[string]Client
	lifetime  time.Duration
	refreshIn time.Duration
	codes     map[string]codeGrant
	refresh   map[string]Identity // refresh token → the person it was issued to
	mode      atomic.Int32
	requests  atomic.Int64
	polls     atomic.Int64
	azure     kitlink.State
	grants    grantState

	updown sync.Mutex // held while the listeners open or close
	addr   string
	srv    *http.Server
	miSrv  *http.Server
	cert   tls.Certificate
}

func init() {
	kitlink.Azure = func(idp any) *kitlink.State { return &idp.(*IdentityProvider).azure }
}

// NewIdentityProvider starts an identity provider for tenant that issues
// tokens for audience, and stops it when the test ends.
func NewIdentityProvider(t testing.TB, tenant, audience string) *IdentityProvider {
	t.Helper()
	ca := NewCA(t, "grpccredstest identity provider CA")
	s := &IdentityProvider{Tenant: tenant, CA: ca, t: t, cert: ca.Server().TLS, lifetime: time.Hour,
		clients: map[string]Client{}, codes: map[string]codeGrant{}, refresh: map[string]Identity{}}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.SetMode(Down) })
	s.URL = "https://" + s.addr
	s.AuthorityURL = s.URL + "/" + tenant
	s.Issuer = s.AuthorityURL + "/v2.0"
	s.TokenURL = s.AuthorityURL + "/oauth2/v2.0/token"
	s.JWKSURL = s.AuthorityURL + "/discovery/v2.0/keys"
	s.Signer = NewSigner(t, s.Issuer, audience)
	return s
}

// Register adds a client application.
func (s *IdentityProvider) Register(clientID string, c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = c
}

// SetLifetime sets the lifetime of tokens issued from now on (default 1 h),
// and the refresh_in hint sent with them (0: none).
func (s *IdentityProvider) SetLifetime(lifetime, refreshIn time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime, s.refreshIn = lifetime, refreshIn
}

// SetMode changes how the identity provider behaves. Down takes it down
// until another mode brings it back on the same addresses; if it cannot
// listen there again, the test fails.
func (s *IdentityProvider) SetMode(m Mode) {
	s.updown.Lock()
	defer s.updown.Unlock()
	wasDown := Mode(s.mode.Swap(int32(m))) == Down
	switch {
	case m == Down && !wasDown:
		s.srv.Close()
		s.miSrv.Close()
	case m != Down && wasDown:
		if err := s.start(); err != nil {
			s.t.Errorf("grpccredstest: the identity provider cannot come back on %s: %v", s.addr, err)
		}
	}
}

// TokenRequests counts requests to the token endpoint.
func (s *IdentityProvider) TokenRequests() int64 { return s.requests.Load() }

// HTTPClient returns a client that trusts the identity provider's
// certificate.
func (s *IdentityProvider) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.pool()}}}
}

// start listens, on the same addresses after Down.
func (s *IdentityProvider) start() error {
	lis, err := net.Listen("tcp", cmp.Or(s.addr, "127.0.0.1:0"))
	if err != nil {
		return err
	}
	s.addr = lis.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.jwks)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.deviceCode)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	s.srv = &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{s.cert}}, ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.ServeTLS(lis, "", "")
	if err := s.startManaged(); err != nil {
		s.srv.Close()
		return err
	}
	return nil
}

func (s *IdentityProvider) discovery(w http.ResponseWriter, r *http.Request) {
	base := s.AuthorityURL
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                        s.Issuer,
		"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
		"token_endpoint":                s.TokenURL,
		"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
		"jwks_uri":                      s.JWKSURL,
	})
}

func (s *IdentityProvider) jwks(w http.ResponseWriter, r *http.Request) {
	jwk, err := jwkset.NewJWKFromKey(s.Signer.PublicKey, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: s.Signer.KeyID, ALG: jwkset.AlgRS256, USE: jwkset.UseSig}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	store := jwkset.NewMemoryStorage()
	store.KeyWrite(r.Context(), jwk)
	raw, _ := store.JSONPublic(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

func (s *IdentityProvider) token(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	r.ParseForm()
	if r.PostForm.Get("claims") != "" {
		s.azure.ClaimsRequests.Add(1)
	}
	s.countGrant(r.PostForm)
	if s.misbehave(w, r) {
		return
	}
	nbf, err := notBefore(r.PostForm.Get("claims"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS90014: "+err.Error()))
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code", "device_code":
		s.devicePoll(w, r, nbf)
		return
	case "authorization_code":
		s.redeemCode(w, r, nbf)
		return
	case "refresh_token":
		s.userToken(w, r, s.refreshUser(r.PostForm.Get("refresh_token")), nbf)
		return
	case jwtBearerGrant:
		s.jwtBearer(w, r, nbf)
		return
	case tokenExchangeGrant:
		s.tokenExchange(w, r, nbf)
		return
	case "client_credentials":
		if _, c, ok := s.authenticate(r); ok {
			s.issue(w, c.Identity, nbf)
			return
		}
	}
	invalidClient(w)
}

// authenticate checks the client a request names, whatever its grant: a
// client secret (form or basic auth) or a client assertion for a registered
// client, verified if the client has an AssertionKey. It returns the
// client's ID and registration, and whether it authenticated.
func (s *IdentityProvider) authenticate(r *http.Request) (string, Client, bool) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	switch {
	case !ok:
		return id, Client{}, false
	case secret != "":
		return id, c, c.Secret != "" && secret == c.Secret
	}
	a := r.PostForm.Get("client_assertion")
	s.azure.SetLastAssertion(a)
	if c.AssertionKey != nil {
		return id, c, s.verifyClientAssertion(r.PostForm, id, c.AssertionKey)
	}
	return id, c, strings.Count(a, ".") == 2
}

// issue answers with a token for id, not issued before notBefore (zero: now).
func (s *IdentityProvider) issue(w http.ResponseWriter, id Identity, notBefore time.Time) {
	s.mu.Lock()
	lifetime, refreshIn := s.lifetime, s.refreshIn
	s.mu.Unlock()
	tok, err := s.Signer.issueFor(id, s.Signer.Audience, lifetime, notBefore)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := map[string]any{"token_type": "Bearer", "access_token": tok,
		"expires_in": int(lifetime.Seconds()), "ext_expires_in": int(lifetime.Seconds())}
	if refreshIn > 0 {
		body["refresh_in"] = int(refreshIn.Seconds())
	}
	writeJSON(w, http.StatusOK, body)
}

func oauthError(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc, "error_codes": []int{7000215},
		"timestamp": time.Now().UTC().Format(time.DateTime), "trace_id": "00000000-0000-0000-0000-000000000000"}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// misbehave answers as the current Mode says, and reports whether it did.
// Slow delays and then lets the request through.
func (s *IdentityProvider) misbehave(w http.ResponseWriter, r *http.Request) bool {
	switch Mode(s.mode.Load()) {
	case Fail500:
		writeJSON(w, http.StatusInternalServerError, oauthError("server_error", "AADSTS50000: temporary failure"))
	case Fail429:
		w.Header().Set("Retry-After", "7")
		writeJSON(w, http.StatusTooManyRequests, oauthError("temporarily_unavailable", "AADSTS50196: throttled"))
	case Garbage:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("<html>proxy error</html>"))
	case Malformed:
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "access_token": MalformedMarker, "expires_in": "soon"})
	case InvalidClient:
		writeJSON(w, http.StatusUnauthorized, oauthError("invalid_client", "AADSTS7000215: Invalid client secret provided."))
	case BlackHole:
		<-r.Context().Done()
	case Slow:
		select {
		case <-time.After(10 * time.Second):
			return false
		case <-r.Context().Done():
		}
	default:
		return false
	}
	return true
}
