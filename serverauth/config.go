package serverauth

import (
	"crypto"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a [Verifier]. Set JWKSURL or StaticKeys (or both).
type Config struct {
	// JWKSURL is where the issuer publishes its signing keys. They are
	// refetched every JWKSRefresh (default 1 hour) and, rate-limited to once
	// per UnknownKIDRefresh (default 5 minutes), when a token names a key ID
	// not yet known. If the endpoint is down the last good keys stay in use.
	JWKSURL           string
	JWKSRefresh       time.Duration
	UnknownKIDRefresh time.Duration
	// HTTPClient fetches the JWKS (default http.DefaultClient).
	HTTPClient *http.Client

	// StaticKeys are public keys by key ID ("kid"), copied by NewVerifier. A
	// token without a kid is checked against the only static key if there is
	// exactly one and no JWKSURL is set.
	StaticKeys map[string]crypto.PublicKey

	// Algorithms allowed (default RS256). Only RS256/384/512, PS256/384/512
	// and ES256/384/512 may be listed; "none" and HMAC are always refused.
	Algorithms []string

	// Issuer must equal the token's iss claim. It is required: Azure AD signs
	// the tokens of every tenant with the same keys, so without it a token
	// from any tenant would pass. For Azure AD it is
	// "https://login.microsoftonline.com/<tenant-id>/v2.0" (v2.0 tokens).
	Issuer string
	// SkipIssuerCheck accepts a token whatever its issuer, as long as a key
	// verifies it. It costs the tenant boundary: with keys shared across
	// tenants, anyone who can get a token from any tenant gets in. Setting it
	// together with Issuer is an error.
	SkipIssuerCheck bool

	// Audience must be one of the token's aud values. It is required: an
	// issuer signs tokens for all its applications with the same keys, so
	// without it a token meant for any other app would pass. For Azure AD it
	// is the API's application (client) ID or its App ID URI (api://…),
	// whichever the tokens carry.
	Audience string
	// SkipAudienceCheck accepts a token whatever its audience. It costs the
	// application boundary: a token the issuer minted for any other app
	// (which that app, or anyone it leaks to, could replay here) gets in.
	// Setting it together with Audience is an error.
	SkipAudienceCheck bool

	// Leeway for exp, nbf and iat (default 30 seconds; negative means 0).
	Leeway time.Duration

	// RequiredClaims must be present and non-empty (for example "name" and
	// "oid").
	RequiredClaims []string

	// MethodRoles maps a full method name ("/pkg.Service/Method") or a
	// service wildcard ("/pkg.Service/*") to roles. A caller needs at least one
	// of the listed roles in its "roles" claim, or the call is answered
	// PermissionDenied. Methods not listed need no role, so NewVerifier
	// refuses a key that is not a method name or lists no roles, and
	// [Verifier.CheckMethods] finds keys no registered method matches.
	MethodRoles map[string][]string

	// Skip lists full method names that need no token (health, reflection).
	// An entry may not also be a MethodRoles key, nor be in a service whose
	// wildcard ("/pkg.Service/*") is one.
	Skip []string

	// CacheSize bounds the verified-token cache (default 10 000 entries).
	// DisableCache verifies every call.
	CacheSize    int
	DisableCache bool

	// Logger, if set, receives a warning when a JWKS refresh fails (the last
	// good keys stay in use meanwhile).
	Logger *slog.Logger

	// Observer, if set, is called after every check of a call (not for
	// Skip methods) with its outcome and whether the cache answered, on the
	// call's goroutine. It must return quickly. The event never carries the
	// token or a claim value.
	Observer func(VerifyEvent)

	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// checkConfig refuses a Config that would admit more than it says.
func checkConfig(cfg Config) error {
	if err := checkIssuerAudience(cfg); err != nil {
		return err
	}
	return checkMethodNames(cfg)
}
