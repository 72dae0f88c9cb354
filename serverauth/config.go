package serverauth

import (
	"crypto"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a [Verifier]. List the token issuers the API trusts in
// Issuers, or set Introspection for opaque tokens, or both.
type Config struct {
	// Issuers are the token issuers this API trusts, each with its own keys
	// and audiences. A token is verified only with the keys of the issuer its
	// iss claim names, so a key trusted for one issuer never admits a token
	// that claims another.
	Issuers []Issuer
	// SkipIssuerCheck accepts a token whatever its issuer, as long as a key
	// verifies it. Issuers must then hold exactly one entry, with an empty
	// URL and its keys given. It costs the tenant boundary: with keys shared
	// across tenants (Azure AD signs every tenant's tokens with the same
	// keys), anyone who can get a token from any tenant gets in.
	SkipIssuerCheck bool

	// JWKSRefresh is how often each JWKS is refetched (default 1 hour).
	// UnknownKIDRefresh is the least time between two refetches of a JWKS
	// prompted by a token naming a key ID not yet known (default 5
	// minutes). Such a refetch runs detached from the call that prompted
	// it, with its own timeout, so a caller that gives up early does not
	// waste it. If an endpoint is down, the last good keys stay in use.
	JWKSRefresh       time.Duration
	UnknownKIDRefresh time.Duration
	// HTTPClient fetches discovery documents and JWKS, and calls the
	// introspection endpoint (default http.DefaultClient). Unless it has a
	// CheckRedirect of its own, a redirect to plain http (other than to
	// loopback) is refused.
	HTTPClient *http.Client

	// Algorithms allowed (default RS256). Only RS256/384/512, PS256/384/512
	// and ES256/384/512 may be listed; "none" and HMAC are always refused.
	Algorithms []string

	// Leeway for exp, nbf and iat (default 30 seconds; negative means 0).
	Leeway time.Duration

	// RequiredClaims must be present and non-empty (for example "name" and
	// "oid").
	RequiredClaims []string

	// MethodRoles and MethodScopes map a full method name
	// ("/pkg.Service/Method") or a service wildcard ("/pkg.Service/*") to
	// the roles (the "roles" claim) or the scopes (the space-delimited "scp"
	// or "scope" claim, or the array "scopes") that may call it. A method
	// named exactly, in either map, takes its rule from its own entries
	// only: the service wildcards of both maps no longer apply to it.
	//
	// A method listed in either map needs one of its listed roles or one of
	// its listed scopes: either is enough, as with Azure AD, where an
	// application calls with app roles and a user's client with delegated
	// scopes. A caller with neither is answered PermissionDenied. Methods
	// listed in neither need no role and no scope, so NewVerifier refuses a
	// key that is not a method name or lists nothing, and
	// [Verifier.CheckMethods] finds keys no registered method matches.
	MethodRoles  map[string][]string
	MethodScopes map[string][]string

	// Skip lists full method names that need no token (health, reflection).
	// An entry may not also be a MethodRoles or MethodScopes key, nor be in
	// a service whose wildcard ("/pkg.Service/*") is one.
	Skip []string

	// KeepStreamsPastExpiry lets a stream run on after the token it opened
	// with expires. By default such a stream ends with Unauthenticated when
	// the token's exp (plus Leeway) passes, as a unary call with that token
	// would be refused then: a stream must not outlast the access it was
	// granted (a revoked user keeps no open stream past the token's life).
	// Clients reopen the stream with a fresh token.
	KeepStreamsPastExpiry bool

	// Introspection, if set, checks opaque tokens at an RFC 7662
	// introspection endpoint; with no Issuers, it checks every token. A
	// token is opaque unless it has the three dot-separated parts of a JWT
	// (an opaque token with two dots is taken for a malformed JWT).
	Introspection *Introspection

	// CacheSize bounds the verified-token cache (default 10 000 entries).
	// DisableCache verifies every call.
	CacheSize    int
	DisableCache bool

	// Logger, if set, receives a warning when a JWKS refresh or a discovery
	// fails (the last good keys stay in use meanwhile), or a fetched key is
	// refused.
	Logger *slog.Logger

	// Observer, if set, is called after every check of a call (not for
	// Skip methods) with its outcome and whether the cache answered, on the
	// call's goroutine. It must return quickly. The event never carries the
	// token or a claim value.
	Observer func(VerifyEvent)

	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// Issuer is one token issuer the API trusts: the iss value its tokens carry,
// where its keys are, and the audiences its tokens must name.
//
// Its keys are StaticKeys, or the JWKS at JWKSURL, or both. With neither,
// the JWKS is found by OpenID Connect discovery: the document at
// DiscoveryURL (default URL + "/.well-known/openid-configuration") names
// it, and is refused unless its "issuer" is exactly URL. Discovery succeeds
// once; the JWKS it names is then kept fresh, but a later change of
// jwks_uri is not followed until the Verifier is made again.
type Issuer struct {
	// URL must equal the token's iss claim, byte for byte. For Azure AD see
	// the serverauth/azure package, which lists the issuers of an API.
	URL string

	// Audiences: the token's aud must hold one of them. For Azure AD it is
	// the API's application (client) ID (v2.0 tokens) or its App ID URI
	// such as api://… (v1.0 tokens).
	Audiences []string
	// SkipAudienceCheck accepts this issuer's tokens whatever their
	// audience. It costs the application boundary: a token the issuer
	// minted for any other app (which that app, or anyone it leaks to, could
	// replay here) gets in. Setting it together with Audiences is an error.
	SkipAudienceCheck bool

	// JWKSURL is where the issuer publishes its signing keys (https, or
	// http to a loopback address).
	JWKSURL string
	// StaticKeys are public keys by key ID ("kid"), copied by NewVerifier. A
	// token without a kid is checked against the only static key if there is
	// exactly one and no JWKSURL is set.
	StaticKeys map[string]crypto.PublicKey
	// DiscoveryURL is where the discovery document is, when it is not at
	// URL + "/.well-known/openid-configuration" (Azure AD's v1.0 issuer
	// https://sts.windows.net/<tenant>/ publishes it under
	// https://login.microsoftonline.com/<tenant>/). Used only when neither
	// JWKSURL nor StaticKeys is set.
	DiscoveryURL string

	// Claims the token must carry with exactly these string values (for
	// example {"tid": "<tenant-id>"}).
	Claims map[string]string

	// RequireScopeOrRole refuses a token that grants no scope and no
	// (non-empty) role: an ID token, which an issuer signs with the same
	// keys and, for an app that is both a client and an API, for the same
	// audience. Azure AD's ID and access tokens look alike otherwise, so
	// serverauth/azure sets it, as Microsoft.Identity.Web checks it; an ID
	// token that carries app roles still passes. For issuers of RFC 9068
	// tokens, Type "at+jwt" tells them apart instead.
	RequireScopeOrRole bool

	// Type, if set, is the JWT "typ" header the tokens must carry, compared
	// without case and without an "application/" prefix: "at+jwt" for
	// RFC 9068 access tokens. Unset, typ is not checked (Azure AD's access
	// tokens say "JWT").
	Type string
}

// checkConfig refuses a Config that would admit more than it says.
func checkConfig(cfg Config) error {
	if err := checkIssuers(cfg); err != nil {
		return err
	}
	return checkMethodNames(cfg)
}
