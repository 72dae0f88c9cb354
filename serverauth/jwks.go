package serverauth

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// fetchTimeout bounds one fetch of a JWKS or a discovery document, and one
// introspection request.
var fetchTimeout = 10 * time.Second

// jwks is one issuer's key set fetched from a URL and kept fresh until its
// context ends.
type jwks struct {
	keyfunc keyfunc.Keyfunc
	store   jwkset.Storage // the keys as last fetched
	client  jwkset.Storage // store, refetched on a read that misses
	ctx     context.Context
	tasks   *tasks // the verifier's: Close waits for refetches

	fetches *atomic.Uint64 // fetches that replaced the keys
	failing *atomic.Bool   // whether the last fetch failed
	allow   *rate.Limiter  // refetches prompted by an unknown kid
	mu      sync.Mutex
	pending *refetch // the refetch in flight, if any
}

// refetch is one detached refetch of the JWKS; done closes when it ends.
type refetch struct {
	done chan struct{}
	err  error
}

// newJWKS fetches the key set at url and keeps it fresh until ctx ends. It
// is keyfunc.NewDefaultOverrideCtx put together by hand, so that the
// storage can refuse keys that must not verify signatures, report to
// changed the fingerprints of the keys each fetch leaves, and refetch on an
// unknown kid detached from the caller.
func newJWKS(ctx context.Context, bg *tasks, url string, cfg Config, changed func(map[fingerprint]bool)) (*jwks, error) {
	fetches, failing := new(atomic.Uint64), new(atomic.Bool)
	store, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Storage: keyFilter{MemoryJWKSet: jwkset.NewMemoryStorage(), changed: changed, fetches: fetches,
			failing: failing, log: cfg.Logger, url: url},
		Client:                    cfg.HTTPClient,
		Ctx:                       ctx,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: true, // a JWKS that is down at start is fetched again later
		RefreshErrorHandler:       refreshErrorHandler(cfg.Logger, url, failing),
		RefreshInterval:           cmp.Or(max(cfg.JWKSRefresh, 0), time.Hour),
	})
	if err != nil {
		return nil, err
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{url: store},
		// The limit on refetches is j.allow; a read that misses refetches.
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, err
	}
	j := &jwks{store: store, client: client, ctx: ctx, tasks: bg, fetches: fetches, failing: failing,
		allow: rate.NewLimiter(rate.Every(cmp.Or(max(cfg.UnknownKIDRefresh, 0), 5*time.Minute)), 1)}
	j.keyfunc, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: detached{Storage: client, j: j}})
	return j, err
}

// detached is the key storage keyfunc reads: the fetched keys, and on a
// miss a refetch that runs detached from the caller (see jwks.read).
type detached struct {
	jwkset.Storage
	j *jwks
}

// KeyRead returns the key kid, refetching the JWKS if it is not known.
func (d detached) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	return d.j.read(ctx, kid)
}

// errRefetchFailed marks a key that could not be looked up because the
// JWKS could not be fetched: the issuer is unreachable, not the token bad.
var errRefetchFailed = errors.New("the issuer's JWKS could not be fetched")

// read returns the key kid. If the last fetch did not have it, it starts a
// refetch (at most one per UnknownKIDRefresh, and one at a time) with its
// own timeout, on the verifier's context rather than the caller's, and waits
// for it as long as ctx allows. A caller that gives up leaves the refetch
// running, so the next token signed with the new key finds it.
func (j *jwks) read(ctx context.Context, kid string) (jwkset.JWK, error) {
	if k, err := j.store.KeyRead(ctx, kid); err == nil {
		return k, nil
	}
	r := j.refetch()
	if r == nil && j.failing.Load() {
		// No refetch now, and the last fetch failed: the key may be one
		// the issuer has published since.
		return jwkset.JWK{}, fmt.Errorf("%w: the last fetch failed", errRefetchFailed)
	}
	if r == nil {
		return jwkset.JWK{}, jwkset.ErrKeyNotFound
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return jwkset.JWK{}, ctx.Err()
	}
	if r.err != nil {
		return jwkset.JWK{}, fmt.Errorf("%w: %w", errRefetchFailed, r.err)
	}
	return j.store.KeyRead(ctx, kid)
}

// refetch joins the refetch in flight or starts one if the limit allows;
// nil means neither.
func (j *jwks) refetch() *refetch {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pending != nil {
		return j.pending
	}
	if !j.allow.Allow() {
		return nil
	}
	r := &refetch{done: make(chan struct{})}
	started := j.tasks.Go(func() {
		ctx, cancel := context.WithTimeout(j.ctx, fetchTimeout)
		defer cancel()
		// The client reads its storage first, misses, and refetches; it
		// reports a failed fetch only to the refresh error handler, so a
		// fetch that replaced no keys is the sign of one.
		before := j.fetches.Load()
		_, err := j.client.KeyRead(ctx, "\x00refetch")
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			err = nil
		}
		if err == nil && j.fetches.Load() == before {
			err = cmp.Or(ctx.Err(), errors.New("fetch failed"))
		}
		j.mu.Lock()
		r.err, j.pending = err, nil
		j.mu.Unlock()
		close(r.done)
	})
	if !started {
		return nil // closed
	}
	j.pending = r
	return r
}

// keyFilter is a JWKS's key storage: jwkset's memory storage, which keeps
// only the keys that may verify signatures and reports the fingerprints of
// those it holds whenever a fetch replaces them.
type keyFilter struct {
	*jwkset.MemoryJWKSet
	changed func(keys map[fingerprint]bool)
	fetches *atomic.Uint64
	failing *atomic.Bool
	log     *slog.Logger
	url     string
}

// KeyReplaceAll stores the fetched keys that pass [usable], then reports
// their fingerprints.
func (s keyFilter) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	kept := make([]jwkset.JWK, 0, len(given))
	for _, k := range given {
		if err := usable(k); err != nil {
			if s.log != nil {
				s.log.WarnContext(ctx, "serverauth: a JWKS key is refused", "url", s.url, "kid", k.Marshal().KID, "reason", err)
			}
			continue
		}
		kept = append(kept, k)
	}
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, kept); err != nil {
		return err
	}
	s.changed(fingerprints(kept))
	s.failing.Store(false)
	s.fetches.Add(1)
	return nil
}

// usable refuses a fetched key that must not verify a signature: one meant
// for encryption ("use": "enc"), one whose "key_ops" do not include
// "verify", and a key [checkKey] refuses.
func usable(k jwkset.JWK) error {
	m := k.Marshal()
	switch {
	case m.USE == jwkset.UseEnc:
		return errors.New(`its "use" is "enc"`)
	case len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify):
		return errors.New(`its "key_ops" do not include "verify"`)
	}
	return checkKey(publicHalf(k.Key()))
}

// checkKey refuses a public key no allowed algorithm verifies with, and RSA
// keys under 2048 bits (RFC 7518 §3.3).
func checkKey(key crypto.PublicKey) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("an RSA key of %d bits is too short (RFC 7518 §3.3 asks for 2048 or more)", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
	default:
		return fmt.Errorf("a %T verifies no allowed algorithm (RS*, PS*, ES*)", key)
	}
	return nil
}

// publicHalf returns the public key of a private key, or key itself.
func publicHalf(key any) any {
	if priv, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return priv.Public()
	}
	return key
}

// fingerprints returns the fingerprints of the public keys in keys, taking
// the public half of a private key as keyfunc does.
func fingerprints(keys []jwkset.JWK) map[fingerprint]bool {
	fps := make(map[fingerprint]bool, len(keys))
	for _, k := range keys {
		if fp, ok := fingerprintOf(publicHalf(k.Key())); ok {
			fps[fp] = true
		}
	}
	return fps
}
