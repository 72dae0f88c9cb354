package serverauth

import (
	"cmp"
	"context"
	"crypto"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// newJWKS fetches the key set at cfg.JWKSURL and keeps it fresh until ctx
// ends. It is keyfunc.NewDefaultOverrideCtx put together by hand, so that
// the storage can report to changed the fingerprints of the keys that each
// refresh leaves.
func newJWKS(ctx context.Context, cfg Config, changed func(keys map[fingerprint]bool)) (keyfunc.Keyfunc, error) {
	unknown := cfg.UnknownKIDRefresh
	if unknown <= 0 {
		unknown = 5 * time.Minute
	}
	store, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Storage:                   keyReporter{MemoryJWKSet: jwkset.NewMemoryStorage(), changed: changed},
		Client:                    cfg.HTTPClient,
		Ctx:                       ctx,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: true, // a JWKS that is down at start is fetched again later
		RefreshErrorHandler:       refreshErrorHandler(cfg.Logger, cfg.JWKSURL),
		RefreshInterval:           cmp.Or(max(cfg.JWKSRefresh, 0), time.Hour),
	})
	if err != nil {
		return nil, err
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{cfg.JWKSURL: store},
		RateLimitWaitMax:  10 * time.Second, // also bounds the refetch itself; a longer limiter wait fails at once
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknown), 1),
	})
	if err != nil {
		return nil, err
	}
	return keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: client})
}

// keyReporter is the JWKS's key storage: jwkset's memory storage, which
// reports the fingerprints of the keys it holds whenever a fetch replaces
// them.
type keyReporter struct {
	*jwkset.MemoryJWKSet
	changed func(keys map[fingerprint]bool)
}

// KeyReplaceAll stores the fetched keys, then reports their fingerprints.
func (s keyReporter) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	s.changed(fingerprints(given))
	return nil
}

// fingerprints returns the fingerprints of the public keys in keys, taking
// the public half of a private key as keyfunc does. Keys that are not public
// keys (HMAC secrets) verify no token here and are left out.
func fingerprints(keys []jwkset.JWK) map[fingerprint]bool {
	fps := make(map[fingerprint]bool, len(keys))
	for _, k := range keys {
		key := k.Key()
		if priv, ok := key.(interface{ Public() crypto.PublicKey }); ok {
			key = priv.Public()
		}
		if fp, ok := fingerprintOf(key); ok {
			fps[fp] = true
		}
	}
	return fps
}
