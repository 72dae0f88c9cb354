// Package bench compares grpccreds with the libraries it replaces, side by
// side in one run: grpc-go's credentials/oauth (over oauth2.ReuseTokenSource,
// and NewOauthAccess), grpc-go's credentials/jwt (token file), and
// cloud.google.com/go/auth's cached token provider. It is a separate module so
// that those libraries stay out of grpccreds' own go.mod. Run it with
// make bench (or make bench-quick).
package bench

import (
	"sync/atomic"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// Endpoint stands in for an identity provider's token endpoint: each fetch
// takes Delay and returns a realistic RS256 JWT that lives Lifetime.
type Endpoint struct {
	Delay    time.Duration
	Lifetime time.Duration
	fetches  atomic.Int64
	jwts     []string
}

// NewEndpoint returns an endpoint whose tokens are pre-signed JWTs, a
// different one for each fetch in turn, as an identity provider issues (the
// expiry callers see comes from the token response, as with Azure AD).
// Signing ahead keeps RSA off the measured path.
func NewEndpoint(delay, lifetime time.Duration) *Endpoint {
	e := &Endpoint{Delay: delay, Lifetime: lifetime}
	for i := range 16 {
		e.jwts = append(e.jwts, testjwt.Mint(time.Now().Add(24*time.Hour+time.Duration(i)*time.Second), nil))
	}
	return e
}

// Fetch simulates one token request and returns the token and its expiry.
func (e *Endpoint) Fetch() (string, time.Time) {
	n := e.fetches.Add(1)
	time.Sleep(e.Delay)
	return e.jwts[int(n)%len(e.jwts)], time.Now().Add(e.Lifetime)
}

// Fetches counts the token requests so far.
func (e *Endpoint) Fetches() int64 { return e.fetches.Load() }
