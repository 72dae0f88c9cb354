package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"

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
// key with the ID kid ("" if the token named none).
type keyRef struct {
	kid    string
	static bool
}

// newKeySet starts keeping the JWKS fresh, if cfg has one; changed learns
// the JWKS's key IDs after every fetch.
func newKeySet(cfg Config, changed func(kids map[string]bool)) (*keySet, error) {
	ks := &keySet{static: cfg.StaticKeys, cancel: func() {}}
	if cfg.JWKSURL == "" {
		if len(ks.static) == 0 {
			return nil, errors.New("grpccreds: jwtauth: set JWKSURL or StaticKeys")
		}
		return ks, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	jwks, err := newJWKS(ctx, cfg, changed)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("grpccreds: jwtauth: JWKS: %w", err)
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
			l.WarnContext(ctx, "grpccreds: JWKS refresh failed; the last good keys stay in use", "url", url, "error", err)
		}
	}
}

// keyfunc finds a token's key and records in by which key it was.
func (ks *keySet) keyfunc(ctx context.Context, by *keyRef) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		*by = keyRef{kid: kid, static: true}
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
		by.static = false
		return ks.jwks.KeyfuncCtx(ctx)(t)
	}
}
