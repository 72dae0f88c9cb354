package serverauth

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// VerifyEvent describes one check of an incoming call by a [Verifier]. It
// never carries the token, its subject or any claim value.
type VerifyEvent struct {
	// Code is the check's outcome: codes.OK, Unauthenticated,
	// PermissionDenied, Unavailable (the issuer's keys or the introspection
	// endpoint out of reach), or the caller's own Canceled or
	// DeadlineExceeded.
	Code codes.Code
	// Cache says whether the verified-token cache answered.
	Cache CacheLookup
}

// CacheLookup says how the verified-token cache took part in a check.
type CacheLookup int

// The cache lookups.
const (
	// CacheNone: the cache was not asked, because it is disabled or the call
	// carried no well-formed bearer token.
	CacheNone CacheLookup = iota
	// CacheHit: the token was verified before and taken from the cache.
	CacheHit
	// CacheMiss: the token was verified now (and cached if it passed).
	CacheMiss
)

// String names the lookup: "none", "hit" or "miss".
func (c CacheLookup) String() string {
	switch c {
	case CacheHit:
		return "hit"
	case CacheMiss:
		return "miss"
	}
	return "none"
}

// observe reports a check's outcome to cfg.Observer, if set.
func (v *Verifier) observe(lookup CacheLookup, err error) {
	if v.cfg.Observer == nil {
		return
	}
	v.cfg.Observer(VerifyEvent{Code: status.Code(err), Cache: lookup})
}
