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

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// keySet finds the key for a token: static keys by kid, then the JWKS.
type keySet struct {
	static map[string]crypto.PublicKey
	jwks   keyfunc.Keyfunc
	cancel context.CancelFunc
}

// keyRef names the key that verified a token: a static key, or the JWKS
// key whose public key has the fingerprint fp. It is the zero fingerprint
// when keyfunc offered more than one key (a token without a kid), so the key
// cannot be told and no fetched key matches it.
type keyRef struct {
	fp     fingerprint
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

// newKeySet starts keeping the JWKS fresh, if cfg has one; changed learns
// the fingerprints of the JWKS's keys after every fetch.
func newKeySet(cfg Config, changed func(keys map[fingerprint]bool)) (*keySet, error) {
	ks := &keySet{static: maps.Clone(cfg.StaticKeys), cancel: func() {}} // the caller's map may change later
	if cfg.JWKSURL == "" {
		if len(ks.static) == 0 {
			return nil, errors.New("serverauth: set JWKSURL or StaticKeys")
		}
		return ks, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	jwks, err := newJWKS(ctx, cfg, changed)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("serverauth: JWKS: %w", err)
	}
	ks.jwks, ks.cancel = jwks, cancel
	return ks, nil
}

func (ks *keySet) close() { ks.cancel() }

// refreshErrorHandler logs a failed JWKS refresh to l, or drops it if l is
// nil (keyfunc's default would log to slog.Default).
func refreshErrorHandler(l *slog.Logger, url string) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		if l != nil && ctx.Err() == nil {
			l.WarnContext(ctx, "serverauth: JWKS refresh failed; the last good keys stay in use", "url", url, "error", err)
		}
	}
}

// keyfunc finds a token's key and records in by which key it was.
func (ks *keySet) keyfunc(ctx context.Context, by *keyRef) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		*by = keyRef{static: true}
		if k, ok := ks.static[kid]; ok {
			return k, nil
		}
		if kid == "" && len(ks.static) == 1 && ks.jwks == nil {
			for _, k := range ks.static {
				return k, nil
			}
		}
		if ks.jwks == nil {
			return nil, errors.New("unknown key ID")
		}
		*by = keyRef{}
		k, err := ks.jwks.KeyfuncCtx(ctx)(t)
		if err == nil {
			by.fp, _ = fingerprintOf(k) // a key set leaves it zero
		}
		return k, err
	}
}
