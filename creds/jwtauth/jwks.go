package jwtauth

import (
	"cmp"
	"context"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// newJWKS fetches the key set at cfg.JWKSURL and keeps it fresh until ctx
// ends. It is keyfunc.NewDefaultOverrideCtx put together by hand, so that
// the storage can report to changed the key IDs that each refresh leaves.
func newJWKS(ctx context.Context, cfg Config, changed func(kids map[string]bool)) (keyfunc.Keyfunc, error) {
	unknown := cfg.UnknownKIDRefresh
	if unknown <= 0 {
		unknown = 5 * time.Minute
	}
	store, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, jwkset.HTTPClientStorageOptions{
		Storage:                   kidReporter{MemoryJWKSet: jwkset.NewMemoryStorage(), changed: changed},
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

// kidReporter is the JWKS's key storage: jwkset's memory storage, which
// reports the key IDs it holds whenever a fetch replaces its keys.
type kidReporter struct {
	*jwkset.MemoryJWKSet
	changed func(kids map[string]bool)
}

// KeyReplaceAll stores the fetched keys, then reports their key IDs.
func (s kidReporter) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	kids := make(map[string]bool, len(given))
	for _, k := range given {
		kids[k.Marshal().KID] = true
	}
	s.changed(kids)
	return nil
}
