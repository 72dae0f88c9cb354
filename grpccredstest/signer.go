package grpccredstest

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity is whom a token is issued to.
type Identity struct {
	Name  string
	OID   string
	Roles []string
}

// Signer signs RS256 access tokens shaped like Azure AD's (roles, name, oid,
// aud, iss) with an RSA key of its own. Tokens from a second Signer are
// foreign to the first one's JWKS.
type Signer struct {
	// Issuer and Audience are the iss and aud a token gets unless its
	// Claims say otherwise; KeyID is the kid in its header.
	Issuer   string
	Audience string
	KeyID    string
	// PublicKey verifies this Signer's tokens.
	PublicKey *rsa.PublicKey

	key    *rsa.PrivateKey
	serial atomic.Int64
}

// NewSigner creates a Signer with a fresh 2048-bit RSA key and the KeyID
// "key-1".
func NewSigner(t testing.TB, issuer, audience string) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Issuer: issuer, Audience: audience, KeyID: "key-1", PublicKey: &key.PublicKey, key: key}
}

// Claims are what [Signer.Mint] puts in a token. Zero fields take the
// defaults noted.
type Claims struct {
	// Identity is whom the token is issued to: its name, oid, sub and roles.
	Identity Identity
	// Issuer and Audience default to the Signer's.
	Issuer   string
	Audience string
	// Expiry defaults to an hour from now; set it in the past for an expired
	// token. NotBefore defaults to a minute ago, IssuedAt to now.
	Expiry    time.Time
	NotBefore time.Time
	IssuedAt  time.Time
	// KeyID defaults to the Signer's; NoKeyID leaves kid out of the header.
	KeyID   string
	NoKeyID bool
	// Extra claims are added last; a nil value removes a claim (for example
	// "exp", for a token that never expires).
	Extra map[string]any
}

// Mint signs a token with the claims c.
func (s *Signer) Mint(c Claims) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": cmp.Or(c.Issuer, s.Issuer), "aud": cmp.Or(c.Audience, s.Audience),
		"sub": c.Identity.OID, "oid": c.Identity.OID, "name": c.Identity.Name, "roles": c.Identity.Roles,
		"iat": orTime(c.IssuedAt, now).Unix(), "nbf": orTime(c.NotBefore, now.Add(-time.Minute)).Unix(),
		"exp": orTime(c.Expiry, now.Add(time.Hour)).Unix(), "jti": fmt.Sprintf("t%d", s.serial.Add(1)),
	}
	for k, v := range c.Extra {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if !c.NoKeyID {
		t.Header["kid"] = cmp.Or(c.KeyID, s.KeyID)
	}
	return t.SignedString(s.key)
}

// issueFor mints a token for id that is valid from now for lifetime, whose
// aud is audience and whose iat and nbf are not before notBefore (zero: no such demand), as a client's claims
// request can ask.
func (s *Signer) issueFor(id Identity, audience string, lifetime time.Duration, notBefore time.Time) (string, error) {
	c := Claims{Identity: id, Audience: audience, Expiry: time.Now().Add(lifetime)}
	if !notBefore.IsZero() {
		c.IssuedAt = maxTime(time.Now(), notBefore)
		c.NotBefore = maxTime(time.Now().Add(-time.Minute), notBefore)
	}
	return s.Mint(c)
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
