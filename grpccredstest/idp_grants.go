package grpccredstest

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The identifiers of RFC 7523 and RFC 8693 the token endpoint knows.
const (
	jwtBearerGrant      = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	tokenExchangeGrant  = "urn:ietf:params:oauth:grant-type:token-exchange"
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	accessTokenType     = "urn:ietf:params:oauth:token-type:access_token"
	jwtTokenType        = "urn:ietf:params:oauth:token-type:jwt"
)

// maxAssertionLife is how far ahead a verified client assertion's exp may
// be.
const maxAssertionLife = 10 * time.Minute

// grantMethods are the algorithms of the tokens presented in the JWT-bearer
// and token-exchange grants: RS256 for RSA keys (the kit's Signer), ES256
// for P-256 keys a trusted issuer may have.
var grantMethods = []string{"RS256", "ES256"}

// grantState is what private_key_jwt and the JWT-bearer, token-exchange and
// on-behalf-of grants keep. Its zero value is ready.
type grantState struct {
	mu                    sync.Mutex
	trusted               map[string]crypto.PublicKey // issuer → key, from TrustIssuer
	jtis                  map[string]time.Time        // client ID and jti of each accepted assertion → its exp
	issuedType, tokenType string                      // SetExchangeAnswer's
	obo                   atomic.Int64
}

// TrustIssuer makes the JWT bearer and token-exchange grants accept tokens
// whose iss is issuer and that key verifies: RS256 for an *rsa.PublicKey,
// ES256 for an *ecdsa.PublicKey on P-256. A nil key withdraws the trust.
// Tokens that the identity provider's Signer signed, with its Issuer as
// iss, are always accepted.
func (s *IdentityProvider) TrustIssuer(issuer string, key crypto.PublicKey) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	if key == nil {
		delete(g.trusted, issuer)
		return
	}
	if g.trusted == nil {
		g.trusted = map[string]crypto.PublicKey{}
	}
	g.trusted[issuer] = key
}

// SetExchangeAnswer makes the token-exchange grant answer with
// issued_token_type issuedTokenType and token_type tokenType (for example
// "N_A"), for tests of a client's checks of the answer; an empty value
// restores the normal one (urn:ietf:params:oauth:token-type:access_token,
// Bearer).
func (s *IdentityProvider) SetExchangeAnswer(issuedTokenType, tokenType string) {
	g := &s.grants
	g.mu.Lock()
	defer g.mu.Unlock()
	g.issuedType, g.tokenType = issuedTokenType, tokenType
}

// OnBehalfOfRequests counts requests to the token endpoint in Azure AD's
// on-behalf-of flow (a JWT bearer grant with
// requested_token_use=on_behalf_of), whatever the answer.
func (s *IdentityProvider) OnBehalfOfRequests() int64 { return s.grants.obo.Load() }

// countGrant counts the request whose form is f, if it is on-behalf-of.
func (s *IdentityProvider) countGrant(f url.Values) {
	if f.Get("grant_type") == jwtBearerGrant && f.Get("requested_token_use") == "on_behalf_of" {
		s.grants.obo.Add(1)
	}
}

// invalidClient answers 401 invalid_client.
func invalidClient(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, oauthError("invalid_client", "AADSTS7000215: Invalid client secret provided."))
}

// verifyClientAssertion checks a private_key_jwt client assertion (RFC 7523
// §2.2 and §3) from the client id, whose key is key: the form names the
// client and the assertion type, the assertion is signed by key with an
// algorithm of its type, its iss and sub are id, its aud holds TokenURL or
// Issuer, its exp is in the future and at most maxAssertionLife away, and
// its jti was not used before.
func (s *IdentityProvider) verifyClientAssertion(f url.Values, id string, key crypto.PublicKey) bool {
	methods := assertionMethods(key)
	if id == "" || f.Get("client_id") != id || f.Get("client_assertion_type") != clientAssertionType || len(methods) == 0 {
		return false
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(f.Get("client_assertion"), &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithIssuer(id), jwt.WithSubject(id),
		jwt.WithAudience(s.TokenURL, s.Issuer))
	if err != nil || claims.ID == "" || time.Until(claims.ExpiresAt.Time) > maxAssertionLife {
		return false
	}
	return s.grants.firstUse(id, claims.ID, claims.ExpiresAt.Time)
}

// assertionMethods are the algorithms a client assertion signed with the
// private half of key may use; none for other key types.
func assertionMethods(key crypto.PublicKey) []string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "PS256"}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return []string{"ES256"}
		}
	}
	return nil
}

// firstUse records the client's assertion jti until exp, and reports
// whether it was new. Records past their exp are dropped.
func (g *grantState) firstUse(client, jti string, exp time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	for k, until := range g.jtis {
		if now.After(until) {
			delete(g.jtis, k)
		}
	}
	key := client + "\x00" + jti
	if _, seen := g.jtis[key]; seen {
		return false
	}
	if g.jtis == nil {
		g.jtis = map[string]time.Time{}
	}
	g.jtis[key] = exp
	return true
}

// verifyToken verifies a token presented in a grant: signed by the key of
// its iss (the Signer's for Signer.Issuer, or one TrustIssuer registered),
// unexpired, and, if auds are given, for one of them. It returns its
// claims.
func (s *IdentityProvider) verifyToken(raw string, auds ...string) (jwt.MapClaims, error) {
	opts := []jwt.ParserOption{jwt.WithValidMethods(grantMethods), jwt.WithExpirationRequired()}
	if len(auds) > 0 {
		opts = append(opts, jwt.WithAudience(auds...))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, s.issuerKeys, opts...)
	return claims, err
}

// issuerKeys is the jwt.Keyfunc of verifyToken.
func (s *IdentityProvider) issuerKeys(t *jwt.Token) (any, error) {
	iss, err := t.Claims.GetIssuer()
	if err != nil {
		return nil, err
	}
	var keys jwt.VerificationKeySet
	if iss == s.Signer.Issuer {
		keys.Keys = append(keys.Keys, s.Signer.PublicKey)
	}
	s.grants.mu.Lock()
	k, ok := s.grants.trusted[iss]
	s.grants.mu.Unlock()
	if ok {
		keys.Keys = append(keys.Keys, k)
	}
	if len(keys.Keys) == 0 {
		return nil, errors.New("untrusted issuer")
	}
	return keys, nil
}

// identityOf is whom a verified token was issued to.
func identityOf(claims jwt.MapClaims) Identity {
	id := Identity{}
	id.Name, _ = claims["name"].(string)
	id.OID, _ = claims["oid"].(string)
	roles, _ := claims["roles"].([]any)
	for _, r := range roles {
		if r, ok := r.(string); ok {
			id.Roles = append(id.Roles, r)
		}
	}
	return id
}

// jwtBearer answers the JWT bearer grant, or the on-behalf-of flow if the
// request asks for it.
func (s *IdentityProvider) jwtBearer(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	f := r.PostForm
	if f.Get("requested_token_use") == "on_behalf_of" {
		s.onBehalfOf(w, r, notBefore)
		return
	}
	if _, _, basic := r.BasicAuth(); basic || f.Get("client_id") != "" {
		if _, _, ok := s.authenticate(r); !ok {
			invalidClient(w)
			return
		}
	}
	claims, err := s.verifyToken(f.Get("assertion"), s.TokenURL, s.Issuer)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "AADSTS50013: the assertion is invalid: "+err.Error()))
		return
	}
	s.grantAnswer(w, identityOf(claims), s.Signer.Audience, notBefore, map[string]any{"sub": claims["sub"]}, nil)
}

// tokenExchange answers the token-exchange grant (RFC 8693).
func (s *IdentityProvider) tokenExchange(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	f := r.PostForm
	if _, _, ok := s.authenticate(r); !ok {
		invalidClient(w)
		return
	}
	if why := exchangeRequestError(f); why != "" {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: "+why))
		return
	}
	subject, err := s.verifyToken(f.Get("subject_token"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "AADSTS50013: the subject token is invalid: "+err.Error()))
		return
	}
	extra := map[string]any{"sub": subject["sub"]}
	if f.Get("actor_token") != "" {
		actor, err := s.verifyToken(f.Get("actor_token"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", "AADSTS50013: the actor token is invalid: "+err.Error()))
			return
		}
		extra["act"] = map[string]any{"sub": actor["sub"]}
	}
	if aud := f["audience"]; len(aud) > 0 {
		extra["aud"] = aud
		if len(aud) == 1 {
			extra["aud"] = aud[0]
		}
	}
	s.grants.mu.Lock()
	issuedType, tokenType := s.grants.issuedType, s.grants.tokenType
	s.grants.mu.Unlock()
	s.grantAnswer(w, identityOf(subject), s.Signer.Audience, notBefore, extra, map[string]any{
		"issued_token_type": cmp.Or(issuedType, accessTokenType), "token_type": cmp.Or(tokenType, "Bearer")})
}

// exchangeRequestError is what is wrong with a token-exchange request's
// parameters, or "".
func exchangeRequestError(f url.Values) string {
	exchangeable := func(t string) bool { return t == accessTokenType || t == jwtTokenType }
	switch {
	case f.Get("subject_token") == "":
		return "subject_token is required"
	case !exchangeable(f.Get("subject_token_type")):
		return "subject_token_type must be an access_token or a jwt"
	case (f.Get("actor_token") != "") != (f.Get("actor_token_type") != ""):
		return "actor_token and actor_token_type go together"
	case f.Get("actor_token") != "" && !exchangeable(f.Get("actor_token_type")):
		return "actor_token_type must be an access_token or a jwt"
	case f.Get("requested_token_type") != "" && !exchangeable(f.Get("requested_token_type")):
		return "requested_token_type must be an access_token or a jwt"
	}
	return ""
}

// onBehalfOf answers Azure AD's on-behalf-of flow.
func (s *IdentityProvider) onBehalfOf(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	f := r.PostForm
	clientID, _, ok := s.authenticate(r)
	if !ok {
		invalidClient(w)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(f.Get("assertion"), claims, func(*jwt.Token) (any, error) { return s.Signer.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithAudience(clientID, "api://"+clientID))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_grant", oboError(err)))
		return
	}
	resource, err := scopeResource(f.Get("scope"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_scope", "AADSTS70011: "+err.Error()))
		return
	}
	id := identityOf(claims)
	s.grantAnswer(w, id, resource, notBefore, map[string]any{"sub": claims["sub"]}, map[string]any{
		"scope": f.Get("scope"), "id_token": s.idToken(id, clientID), "client_info": s.clientInfo(id)})
}

// oboError is Azure AD's description of a refused on-behalf-of assertion.
func oboError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
		return "AADSTS500133: Assertion is not within its valid time range."
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "AADSTS50013: Assertion audience does not match the Client app presenting the assertion."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "AADSTS50013: Assertion failed signature validation."
	}
	return "AADSTS50027: JWT token is invalid or malformed."
}

// scopeResource is the resource that the scopes of an on-behalf-of request
// are for: the scope without its last path segment ("/.default" or the
// scope's name). OpenID Connect's scopes are ignored; scopes of two
// resources are refused, as Azure AD does.
func scopeResource(scope string) (string, error) {
	resource := ""
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		from := 0
		if i := strings.Index(sc, "://"); i >= 0 {
			from = i + len("://")
		}
		if i := strings.LastIndex(sc[from:], "/"); i >= 0 {
			sc = sc[:from+i]
		}
		if resource != "" && resource != sc {
			return "", errors.New("the scopes are for more than one resource")
		}
		resource = sc
	}
	if resource == "" {
		return "", errors.New("no scope names a resource")
	}
	return resource, nil
}

// grantAnswer answers with a token for id whose aud is aud, with the extra
// claims (see [Claims.Extra]), not issued before notBefore (zero: now), in
// the body that issue gives, with fields added.
func (s *IdentityProvider) grantAnswer(w http.ResponseWriter, id Identity, aud string, notBefore time.Time, extra, fields map[string]any) {
	s.mu.Lock()
	lifetime, refreshIn := s.lifetime, s.refreshIn
	s.mu.Unlock()
	now := time.Now()
	c := Claims{Identity: id, Audience: aud, Expiry: now.Add(lifetime), Extra: extra}
	if !notBefore.IsZero() {
		c.IssuedAt, c.NotBefore = maxTime(now, notBefore), maxTime(now.Add(-time.Minute), notBefore)
	}
	tok, err := s.Signer.Mint(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body := map[string]any{"token_type": "Bearer", "access_token": tok,
		"expires_in": int(lifetime.Seconds()), "ext_expires_in": int(lifetime.Seconds())}
	if refreshIn > 0 {
		body["refresh_in"] = int(refreshIn.Seconds())
	}
	maps.Copy(body, fields)
	writeJSON(w, http.StatusOK, body)
}
