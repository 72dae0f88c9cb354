package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cache remembers verified tokens by the SHA-256 of their text, so the text
// itself is not kept. Entries expire with their token.
type cache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]cached
}

type cached struct {
	claims *Claims
	until  time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, entries: make(map[[32]byte]cached)}
}

func (c *cache) get(key [32]byte, now time.Time) (*Claims, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.claims, true
}

// put stores claims until the token's expiry. When full it makes room for an
// eighth of the entries at once, so the sweep is amortised: expired entries
// go first, then arbitrary ones (Go's map order is random).
func (c *cache) put(key [32]byte, claims *Claims, until time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[key] = cached{claims: claims, until: until}
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

func hashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }
