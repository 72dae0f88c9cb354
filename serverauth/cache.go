package serverauth

import (
	"cmp"
	"crypto/sha256"
	"maps"
	"sync"
	"time"
	"unsafe"
)

// cache remembers verified tokens by the SHA-256 of their text, so the text
// itself is not kept. Entries expire with their token, and those verified by
// a JWKS key go when a fetch of the JWKS no longer has that key's material
// (its fingerprint), whatever kids it publishes. A JWKS token without a kid
// (its key cannot be told) is not cached.
type cache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]cached
	keys    map[int]map[fingerprint]bool // each JWKS's keys as last fetched
}

type cached struct {
	claims *verified
	until  time.Time
	by     keyRef
}

// configCache returns the cache cfg asks for, nil if DisableCache.
func configCache(cfg Config) *cache {
	if cfg.DisableCache {
		return nil
	}
	return &cache{max: cmp.Or(max(cfg.CacheSize, 0), 10000), entries: make(map[[32]byte]cached),
		keys: make(map[int]map[fingerprint]bool)}
}

func (c *cache) get(key [32]byte, now time.Time) (*verified, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.claims, true
}

// put stores e, unless the JWKS key that verified it has gone meanwhile.
// When full it makes room for an eighth of the entries at once, so the sweep
// is amortised: expired entries go first, then arbitrary ones (Go's map
// order is random).
func (c *cache) put(key [32]byte, e cached, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.trusts(e.by) {
		return
	}
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[key] = e
}

func (c *cache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	target := c.max - max(c.max/8, 1)
	for k := range c.entries {
		if len(c.entries) <= target {
			return
		}
		delete(c.entries, k)
	}
}

// trusts reports whether by is a static key or among its JWKS's keys as
// last fetched. The caller holds c.mu.
func (c *cache) trusts(by keyRef) bool { return by.static || c.keys[by.src][by.fp] }

// setKeys returns the function that records the fingerprints of the keys a
// fetch of JWKS number src found and drops the entries verified by a key of
// that JWKS that is no longer among them. A nil cache ignores them.
func (c *cache) setKeys(src int) func(keys map[fingerprint]bool) {
	return func(keys map[fingerprint]bool) {
		if c == nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if maps.Equal(keys, c.keys[src]) {
			return
		}
		c.keys[src] = keys
		for k, e := range c.entries {
			if !c.trusts(e.by) {
				delete(c.entries, k)
			}
		}
	}
}

// hashToken returns the SHA-256 of token. It reads the string's bytes in
// place (Sum256 only reads them) instead of copying a token of up to 16 KiB
// on every call, which was most of a cached check's allocation.
func hashToken(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}
