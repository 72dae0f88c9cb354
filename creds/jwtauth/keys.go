package jwtauth

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// keySet finds the key for a token: static keys by kid, then the JWKS.
type keySet struct {
	static map[string]crypto.PublicKey
	jwks   keyfunc.Keyfunc
	cancel context.CancelFunc
}

func newKeySet(cfg Config) (*keySet, error) {
	ks := &keySet{static: cfg.StaticKeys, cancel: func() {}}
	if cfg.JWKSURL == "" {
		if len(ks.static) == 0 {
			return nil, errors.New("grpccreds: jwtauth: set JWKSURL or StaticKeys")
		}
		return ks, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	unknown := cfg.UnknownKIDRefresh
	if unknown <= 0 {
		unknown = 5 * time.Minute
	}
	jwks, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:                  cfg.HTTPClient,
		HTTPTimeout:             10 * time.Second,
		RefreshInterval:         cmp.Or(max(cfg.JWKSRefresh, 0), time.Hour),
		RefreshUnknownKID:       rate.NewLimiter(rate.Every(unknown), 1),
		RateLimitWaitMax:        10 * time.Second, // also bounds the refetch itself; a longer limiter wait fails at once
		RefreshErrorHandlerFunc: refreshErrorHandler(cfg.Logger),
	})
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
func refreshErrorHandler(l *slog.Logger) func(string) func(context.Context, error) {
	return func(url string) func(context.Context, error) {
		return func(ctx context.Context, err error) {
			if l != nil && ctx.Err() == nil {
				l.WarnContext(ctx, "grpccreds: JWKS refresh failed; the last good keys stay in use", "url", url, "error", err)
			}
		}
	}
}

func (ks *keySet) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
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
		return ks.jwks.KeyfuncCtx(ctx)(t)
	}
}
