package serverauth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// keySet holds one issuer's keys: static keys by kid, then its JWKS.
type keySet struct {
	static map[string]crypto.PublicKey
	remote *remoteKeys // nil if the issuer has no JWKS
}

// remoteKeys is an issuer's JWKS: given by URL, it is there from the start;
// found by discovery, once a discovery succeeds.
type remoteKeys struct {
	src   int // numbers the JWKS for the cache
	cur   atomic.Pointer[jwks]
	ready chan struct{}         // closed when the first discovery attempt ends
	err   atomic.Pointer[error] // why the last discovery failed
}

// keyRef names the key that verified a token: a static key, or the key of
// JWKS number src whose public key has the fingerprint fp. It is the zero
// fingerprint when keyfunc offered more than one key (a token without a
// kid), so the key cannot be told and no fetched key matches it.
type keyRef struct {
	fp     fingerprint
	src    int
	static bool
}

// fingerprint is the SHA-256 of a public key's PKIX (DER) encoding: it names
// the key material itself, whatever kid a JWKS publishes it under.
type fingerprint [32]byte

// fingerprintOf returns key's fingerprint, or false if key is not a single
// public key x509 can encode (a jwt.VerificationKeySet, an HMAC secret).
func fingerprintOf(key any) (fingerprint, bool) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return fingerprint{}, false
	}
	return sha256.Sum256(der), true
}

// staticKeys copies keys (the caller's map may change later), refusing any
// key [checkKey] refuses.
func staticKeys(keys map[string]crypto.PublicKey) (map[string]crypto.PublicKey, error) {
	var errs []error
	for _, kid := range slices.Sorted(maps.Keys(keys)) {
		if err := checkKey(keys[kid]); err != nil {
			errs = append(errs, fmt.Errorf("StaticKeys[%q]: %w", kid, err))
		}
	}
	return maps.Clone(keys), errors.Join(errs...)
}

// errNoKeys marks a token whose issuer's keys are not known yet, because
// its discovery has not succeeded: the issuer is unreachable, not the token
// bad.
var errNoKeys = errors.New("the issuer's keys are not known yet")

// jwks returns the issuer's JWKS, waiting as long as ctx allows for the
// first discovery attempt.
func (r *remoteKeys) jwks(ctx context.Context) (*jwks, error) {
	if j := r.cur.Load(); j != nil {
		return j, nil
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if j := r.cur.Load(); j != nil {
		return j, nil
	}
	return nil, fmt.Errorf("%w: discovery failed: %w", errNoKeys, *r.err.Load())
}

// find returns the key for t and records in by which key it was.
func (ks *keySet) find(ctx context.Context, t *jwt.Token, by *keyRef) (any, error) {
	kid, _ := t.Header["kid"].(string)
	*by = keyRef{static: true}
	if k, ok := ks.static[kid]; ok {
		return k, nil
	}
	if kid == "" && len(ks.static) == 1 && ks.remote == nil {
		for _, k := range ks.static {
			return k, nil
		}
	}
	if ks.remote == nil {
		return nil, refusal("the token's key ID is not one of its issuer's keys")
	}
	j, err := ks.remote.jwks(ctx)
	if err != nil {
		return nil, err
	}
	*by = keyRef{src: ks.remote.src}
	k, err := j.keyfunc.KeyfuncCtx(ctx)(t)
	if err == nil {
		by.fp, _ = fingerprintOf(k) // a key set leaves it zero
	}
	return k, err
}

// refreshErrorHandler records a failed JWKS refresh in failing and logs it
// to l, or drops it if l is nil (keyfunc's default would log to
// slog.Default).
func refreshErrorHandler(l *slog.Logger, url string, failing *atomic.Bool) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		failing.Store(true)
		if l != nil && ctx.Err() == nil {
			l.WarnContext(ctx, "serverauth: JWKS refresh failed; the last good keys stay in use", "url", url, "error", err)
		}
	}
}
