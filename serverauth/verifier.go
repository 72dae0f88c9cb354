package serverauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/claims"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxTokenLen bounds the authorization value a Verifier will look at.
const maxTokenLen = 16 << 10

// Verifier checks bearer tokens on incoming calls: JWTs against the keys of
// the issuer they name, opaque tokens by introspection. Create it with
// NewVerifier and Close it to stop keeping the keys fresh.
type Verifier struct {
	cfg       Config
	parser    *jwt.Parser
	leeway    time.Duration
	issuers   map[string]*issuer
	anyIssuer *issuer // with SkipIssuerCheck, the one issuer
	intro     *introspector
	cache     *cache
	now       func() time.Time
	rules     rules
	admit     *Validator
	stop      context.CancelFunc
	tasks     tasks
}

// NewVerifier checks cfg and starts keeping the issuers' keys fresh: a JWKS
// given by URL is fetched before it returns (if it is down, again later),
// discovery runs in the background.
//
// It refuses a Config whose issuers lack a URL or audiences unless
// SkipIssuerCheck or SkipAudienceCheck says that is meant, keys that must
// not verify signatures (RSA under 2048 bits), and MethodRoles or
// MethodScopes keys or Skip entries that are not method names
// ([Verifier.CheckMethods] then checks them against a server).
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	algs, err := allowedAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	cfg.MethodRoles, cfg.MethodScopes, cfg.Skip = copyLists(cfg.MethodRoles), copyLists(cfg.MethodScopes), slices.Clone(cfg.Skip)
	cfg.Issuers, cfg.HTTPClient = slices.Clone(cfg.Issuers), noDowngrade(cfg.HTTPClient)
	v := &Verifier{cfg: cfg, now: cfg.Now, cache: configCache(cfg), leeway: leeway(cfg), rules: newRules(cfg.MethodRoles, cfg.MethodScopes)}
	if v.now == nil {
		v.now = time.Now
	}
	ctx, stop := context.WithCancel(context.Background())
	v.stop = stop
	if err := v.startIssuers(ctx); err != nil {
		v.Close()
		return nil, err
	}
	if v.intro, err = newIntrospector(ctx, &v.tasks, cfg, v.checkRequired); err != nil {
		v.Close()
		return nil, err
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods(algs), jwt.WithLeeway(v.leeway),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(v.now))
	v.admit = NewValidator(v.check, cfg.Skip...)
	v.admit.noMD = true // check reads only the authorization header
	return v, nil
}

func leeway(cfg Config) time.Duration {
	if cfg.Leeway != 0 {
		return max(cfg.Leeway, 0)
	}
	return 30 * time.Second
}

// UnaryServerInterceptor returns the interceptor that verifies unary calls.
func (v *Verifier) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return v.admit.UnaryServerInterceptor()
}

// Close stops keeping the keys fresh and waits for the background fetches
// to end.
func (v *Verifier) Close() error {
	v.stop()
	v.tasks.close()
	return nil
}

// Verify checks a raw token (without the "Bearer " scheme) and returns a copy
// of its claims, the caller's to change, or a status error: Unauthenticated
// for a token refused, Unavailable when the issuer's keys or the
// introspection endpoint cannot be reached, and ctx's own error when it
// ends first.
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
	if now.Before(c.until) {
		v.cache.put(key, cached{claims: c, until: c.until, by: by}, now)
	}
	return c, CacheMiss, nil
}

// verify checks token, a JWT against its issuer's keys or an opaque token
// by introspection, and names the key that verified it.
func (v *Verifier) verify(ctx context.Context, token string) (*verified, keyRef, error) {
	if v.intro != nil && (len(v.issuers) == 0 || !looksLikeJWT(token)) {
		c, err := v.intro.verify(ctx, token, v.now())
		return c, keyRef{static: true}, err
	}
	all := jwt.MapClaims{}
	var is *issuer
	var by keyRef
	if _, err := v.parser.ParseWithClaims(token, all, v.keyfunc(ctx, &is, &by)); err != nil {
		return nil, keyRef{}, refused(ctx, err)
	}
	if err := is.checkClaims(all); err != nil {
		return nil, keyRef{}, refused(ctx, err)
	}
	if err := v.checkRequired(claims.Claims(all)); err != nil {
		return nil, keyRef{}, err
	}
	c := newVerified(claims.Claims(all))
	if is.RequireScopeOrRole && !slices.ContainsFunc(c.roles, nonEmpty) && len(c.scopes) == 0 {
		return nil, keyRef{}, status.Error(codes.Unauthenticated, "invalid token: it grants no scope and no role (an ID token is not an access token)")
	}
	return c, by, nil
}

func nonEmpty(s string) bool { return s != "" }

func (v *Verifier) checkRequired(c claims.Claims) error {
	for _, name := range v.cfg.RequiredClaims {
		if val, ok := c[name]; !ok || val == nil || val == "" {
			return status.Errorf(codes.Unauthenticated, "invalid token: required claim %q is missing", name)
		}
	}
	return nil
}

// keyfunc finds a token's key among the keys of the issuer it names, and
// records the issuer in is and the key in by. golang-jwt has decoded the
// claims, not yet trusting them, when it asks.
func (v *Verifier) keyfunc(ctx context.Context, is **issuer, by *keyRef) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515 §4.1.11: extensions named critical must be understood,
			// and this verifier understands none.
			return nil, refusal("the token names critical header extensions (crit) this API does not process")
		}
		found, err := v.issuerOf(t)
		if err != nil {
			return nil, err
		}
		if err := found.checkType(t); err != nil {
			return nil, err
		}
		*is = found
		return found.keys.find(ctx, t, by)
	}
}

// looksLikeJWT reports whether token has the three parts of a JWS.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// refused turns a failed verification into a status error: ctx's own when it
// ended, Unavailable when the keys could not be fetched, otherwise
// Unauthenticated with a reason that quotes nothing from the token.
func refused(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, errRefetchFailed), errors.Is(err, errNoKeys):
		return status.Error(codes.Unavailable, "cannot verify the token now: "+unavailableReason(err))
	}
	return status.Error(codes.Unauthenticated, "invalid token: "+describe(err))
}

func unavailableReason(err error) string {
	if errors.Is(err, errNoKeys) {
		return errNoKeys.Error()
	}
	return errRefetchFailed.Error()
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

// describe names why a token was refused, without its text.
func describe(err error) string {
	var r refusal
	if errors.As(err, &r) {
		return string(r)
	}
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		return "the token's key ID is not one of its issuer's keys"
	}
	for _, known := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued,
		jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidClaims, jwt.ErrTokenUnverifiable} {
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
