package msalcache

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
)

// Store keeps MSAL's serialized token cache between runs. The bytes
// are MSAL's whole cache: accounts, refresh tokens and access tokens.
// [FileStore] keeps them in a file; implement Store over an OS keyring
// (macOS Keychain, Windows Credential Manager or DPAPI, the Secret Service
// on Linux) to have them encrypted at rest.
type Store interface {
	// Load returns the stored bytes, or nil if nothing is stored yet.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the stored bytes with data.
	Save(ctx context.Context, data []byte) error
}

// Persistent returns MSAL's cache hook (pass it to public.WithCache or
// confidential.WithCache) over store, so that a tool asks the user to sign
// in once across runs rather than every run: MSAL loads the cache from store
// before it reads it and saves it after every change.
//
// The cache never fails a token request. Stored bytes that cannot be read or
// are not a valid cache mean an empty cache (the user signs in again, which
// rewrites it), and a cache that cannot be saved is only not kept; each case
// logs one warning to logger (nil: slog.Default()), naming neither a token
// nor the stored bytes. Only a canceled or expired context is returned as
// an error.
//
// With [FileStore] the cache is protected as the Azure CLI's own token cache
// is on Linux: by file permissions alone (0600), not encrypted; a cache file
// others may read that cannot be made 0600 logs one warning. See
// [FileStore], also for what processes sharing the file may lose: of two
// that change the cache at the same moment, only one change is kept, and
// the user whose change was lost signs in once more.
func Persistent(store Store, logger *slog.Logger) cache.ExportReplace {
	if logger == nil {
		logger = slog.Default()
	}
	return &persistentCache{store: store, logger: logger}
}

// emptyCache is a serialized MSAL cache that holds nothing.
var emptyCache = []byte("{}")

type persistentCache struct {
	store  Store
	logger *slog.Logger
	// warned is set by a warning and cleared by a good load or save, so
	// that one bad file gives one warning, not one for each of MSAL's loads.
	warned atomic.Bool
	// modeWarned is set by the warning that a FileStore's file could not be
	// made 0600, given once.
	modeWarned atomic.Bool
}

// Replace loads the stored cache into u, or an empty cache when nothing
// usable is stored.
func (p *persistentCache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	data, err := p.load(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		p.warn("the token cache could not be read; using an empty cache", "error", err)
	case len(data) == 0:
		p.warned.Store(false)
	case u.Unmarshal(data) == nil:
		p.warned.Store(false)
		return nil
	default:
		p.warn("the token cache is not a valid cache; using an empty cache", "bytes", len(data))
	}
	return u.Unmarshal(emptyCache)
}

// Export saves the cache m holds.
func (p *persistentCache) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	data, err := m.Marshal()
	if err == nil {
		err = p.store.Save(ctx, data)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		p.warn("the token cache could not be saved; the next run signs in again", "error", err)
	default:
		p.warned.Store(false)
	}
	return nil
}

// load loads from the store, for a FileStore with a warning if it could not
// tighten the file's mode.
func (p *persistentCache) load(ctx context.Context) ([]byte, error) {
	store, ok := p.store.(fileStore)
	if !ok {
		return p.store.Load(ctx)
	}
	return store.load(ctx, func(msg string, args ...any) {
		if !p.modeWarned.Swap(true) {
			p.logger.Warn("msalcache: "+msg, args...)
		}
	})
}

func (p *persistentCache) warn(msg string, args ...any) {
	if !p.warned.Swap(true) {
		p.logger.Warn("msalcache: "+msg, args...)
	}
}
