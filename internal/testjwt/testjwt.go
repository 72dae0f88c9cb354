// Package testjwt mints RS256 JWTs shaped like Azure AD access tokens, for
// tests and benchmarks.
package testjwt

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer and Audience are the iss and aud of every minted token.
const (
	Issuer   = "https://login.example.test/00000000-0000-0000-0000-000000000000/v2.0"
	Audience = "api://grpccreds-test"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// Key returns the process-wide signing key, generating it on first use.
func Key() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

// Mint returns a signed token that expires at exp (no exp claim if exp is
// zero), with the claims of a typical Azure AD access token plus extra.
func Mint(exp time.Time, extra jwt.MapClaims) string {
	c := jwt.MapClaims{
		"iss":   Issuer,
		"aud":   Audience,
		"sub":   "6f1d2c1e-0b7a-4c55-9d1e-3a6b2f0c9e11",
		"oid":   "6f1d2c1e-0b7a-4c55-9d1e-3a6b2f0c9e11",
		"name":  "Test User",
		"roles": []string{"Reader", "Trader"},
		"iat":   time.Now().Unix(),
		"nbf":   time.Now().Add(-time.Minute).Unix(),
		"azp":   "9c1f7a52-3b0e-4d1a-8f44-0e5d6c7b8a90",
		"tid":   "00000000-0000-0000-0000-000000000000",
		"ver":   "2.0",
	}
	if !exp.IsZero() {
		c["exp"] = exp.Unix()
	}
	for k, v := range extra {
		c[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = "test-key-1"
	s, err := t.SignedString(Key())
	if err != nil {
		panic(err)
	}
	return s
}
