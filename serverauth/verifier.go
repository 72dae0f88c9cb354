package serverauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/claims"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxTokenLen bounds the authorization value a Verifier will look at.
const maxTokenLen = 16 << 10

// Verifier checks bearer JWTs on incoming calls. Create it with NewVerifier
// and Close it to stop the JWKS refresh.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
	keys   *keySet
	cache  *cache
	now    func() time.Time
	admit  *Validator
}

// NewVerifier checks cfg and, with a JWKS URL, starts keeping the keys fresh.
//
// It refuses a Config without an Issuer or an Audience unless the matching
// SkipIssuerCheck or SkipAudienceCheck says that is meant, and MethodRoles
// keys or Skip entries that are not method names ([Verifier.CheckMethods]
// then checks them against a server).
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	algs, err := allowedAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	cfg.MethodRoles, cfg.Skip = copyRoles(cfg.MethodRoles), slices.Clone(cfg.Skip)
	v := &Verifier{cfg: cfg, now: cfg.Now, cache: configCache(cfg)}
	if v.now == nil {
		v.now = time.Now
	}
	if v.keys, err = newKeySet(cfg, v.cache.setKeys); err != nil {
		return nil, err
	}
	v.parser = jwt.NewParser(parserOptions(cfg, algs, v.now)...)
	v.admit = NewValidator(v.check, cfg.Skip...)
	v.admit.noMD = true // check reads only the authorization header
	return v, nil
}

// UnaryServerInterceptor returns the interceptor that verifies unary calls.
func (v *Verifier) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return v.admit.UnaryServerInterceptor()
}

// StreamServerInterceptor returns the interceptor that verifies streams, once,
// when a stream opens.
func (v *Verifier) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return v.admit.StreamServerInterceptor()
}

func parserOptions(cfg Config, algs []string, now func() time.Time) []jwt.ParserOption {
	leeway := 30 * time.Second
	if cfg.Leeway != 0 {
		leeway = max(cfg.Leeway, 0)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(algs), jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return opts
}

// Close stops the background JWKS refresh.
func (v *Verifier) Close() error {
	v.keys.close()
	return nil
}

// Verify checks a raw token (without the "Bearer " scheme) and returns a copy
// of its claims, the caller's to change, or an Unauthenticated status error.
func (v *Verifier) Verify(ctx context.Context, token string) (claims.Claims, error) {
	c, _, err := v.verified(ctx, token)
	if err != nil {
		return nil, err
	}
	return c.claims.Clone(), nil
}

// verified is Verify without the copy: the claims may be the cache's, shared
// by every call with the token, so they must only be read. It also says how
// the cache took part.
func (v *Verifier) verified(ctx context.Context, token string) (*verified, CacheLookup, error) {
	if v.cache == nil {
		c, _, err := v.verify(ctx, token)
		return c, CacheNone, err
	}
	key := hashToken(token)
	now := v.now()
	if c, ok := v.cache.get(key, now); ok {
		return c, CacheHit, nil
	}
	c, by, err := v.verify(ctx, token)
	if err != nil {
		return nil, CacheMiss, err
	}
	if now.Before(c.expiry) {
		v.cache.put(key, cached{claims: c, until: c.expiry, by: by}, now)
	}
	return c, CacheMiss, nil
}

// verify checks token and names the key that verified it.
func (v *Verifier) verify(ctx context.Context, token string) (*verified, keyRef, error) {
	all := jwt.MapClaims{}
	var by keyRef
	if _, err := v.parser.ParseWithClaims(token, all, v.keys.keyfunc(ctx, &by)); err != nil {
		return nil, keyRef{}, status.Error(codes.Unauthenticated, "invalid token: "+describe(err))
	}
	for _, name := range v.cfg.RequiredClaims {
		if val, ok := all[name]; !ok || val == nil || val == "" {
			return nil, keyRef{}, status.Errorf(codes.Unauthenticated, "invalid token: required claim %q is missing", name)
		}
	}
	return newVerified(claims.Claims(all)), by, nil
}

func (v *Verifier) check(ctx context.Context, method string, _ metadata.MD) (context.Context, error) {
	c, lookup, err := v.admitToken(ctx, method)
	v.observe(lookup, err)
	if err != nil {
		return nil, err
	}
	return context.WithValue(ctx, claimsKey{}, c), nil
}

// admitToken verifies the call's bearer token and authorizes method for it.
func (v *Verifier) admitToken(ctx context.Context, method string) (*verified, CacheLookup, error) {
	token, err := bearer(metadata.ValueFromIncomingContext(ctx, "authorization"))
	if err != nil {
		return nil, CacheNone, err
	}
	c, lookup, err := v.verified(ctx, token)
	if err == nil {
		err = v.authorize(method, c)
	}
	return c, lookup, err
}

// authorize applies MethodRoles: the exact method first, then the service
// wildcard.
func (v *Verifier) authorize(method string, c *verified) error {
	roles, ok := v.cfg.MethodRoles[method]
	if !ok {
		if i := strings.LastIndexByte(method, '/'); i > 0 {
			roles, ok = v.cfg.MethodRoles[method[:i+1]+"*"]
		}
	}
	if !ok {
		return nil
	}
	for _, r := range roles {
		if c.hasRole(r) {
			return nil
		}
	}
	return status.Errorf(codes.PermissionDenied, "%s requires one of the roles %v", method, roles)
}

// bearer extracts the token from the one authorization header.
func bearer(vals []string) (string, error) {
	switch {
	case len(vals) == 0:
		return "", status.Error(codes.Unauthenticated, "missing bearer token")
	case len(vals) > 1:
		return "", status.Error(codes.Unauthenticated, "more than one authorization header")
	case len(vals[0]) > maxTokenLen:
		return "", status.Error(codes.Unauthenticated, "authorization header too large")
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", status.Error(codes.Unauthenticated, `malformed authorization header: want "Bearer <token>"`)
	}
	return token, nil
}

// describe names why golang-jwt refused a token, without its text.
func describe(err error) string {
	for _, known := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenInvalidAudience, jwt.ErrTokenRequiredClaimMissing} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "not acceptable"
}

func allowedAlgorithms(algs []string) ([]string, error) {
	if len(algs) == 0 {
		return []string{"RS256"}, nil
	}
	for _, a := range algs {
		switch a {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512":
		default:
			return nil, fmt.Errorf("serverauth: algorithm %q is not allowed (use RS*, PS* or ES*)", a)
		}
	}
	return algs, nil
}
