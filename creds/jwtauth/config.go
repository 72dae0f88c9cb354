package jwtauth

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

	// StaticKeys are public keys by key ID ("kid"). A token without a kid is
	// checked against the only static key if there is exactly one.
	StaticKeys map[string]crypto.PublicKey

	// Algorithms allowed (default RS256). Only RS256/384/512, PS256/384/512
	// and ES256/384/512 may be listed; "none" and HMAC are always refused.
	Algorithms []string

	// Issuer and Audience, if set, must match the iss and aud claims.
	Issuer   string
	Audience string
	// Leeway for exp, nbf and iat (default 30 seconds; negative means 0).
	Leeway time.Duration

	// RequiredClaims must be present and non-empty (Mesh: "name", "oid").
	RequiredClaims []string

	// MethodRoles maps a full method name ("/pkg.Service/Method") or a
	// service wildcard ("/pkg.Service/*") to roles. A caller needs at least one
	// of the listed roles in its "roles" claim, or the call is answered
	// PermissionDenied. Methods not listed need no role.
	MethodRoles map[string][]string

	// Skip lists full method names that need no token (health, reflection).
	Skip []string

	// CacheSize bounds the verified-token cache (default 10 000 entries).
	// DisableCache verifies every call.
	CacheSize    int
	DisableCache bool

	// Logger, if set, receives a warning when a JWKS refresh fails (the last
	// good keys stay in use meanwhile).
	Logger *slog.Logger

	// Now replaces time.Now, for tests.
	Now func() time.Time
}
