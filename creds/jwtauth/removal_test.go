package jwtauth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A token verified (and cached) with a JWKS key is refused once the issuer
// removes that key, even though the cache still held it.
func TestRemovedKeyEndsCachedTokens(t *testing.T) {
	j := startJWKS(t, "k1")
	v, err := NewVerifier(j.config())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	client := serve(t, v.Validator)
	old := "Bearer " + sign("k1", claims())
	if err := check(client, old); err != nil {
		t.Fatal(err)
	}
	j.set(false, "k2") // the issuer drops k1
	if err := check(client, "Bearer "+sign("k2", claims())); err != nil {
		t.Fatalf("k2 after the refetch its kid caused: %v", err)
	}
	if err := check(client, old); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("token signed by the removed key: %v, want Unauthenticated", err)
	}
}

// Tokens verified with a static key stay cached when the JWKS changes.
func TestStaticKeyEntriesSurviveJWKSChange(t *testing.T) {
	j := startJWKS(t, "k1")
	cfg := j.config()
	cfg.StaticKeys = staticKeys("k3")
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	static, jwks := sign("k3", claims()), sign("k1", claims())
	for _, tok := range []string{static, jwks} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	j.set(false, "k2")
	if _, err := v.Verify(ctx, sign("k2", claims())); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.cache.get(hashToken(static), v.now()); !ok {
		t.Fatal("the static-key token left the cache when the JWKS changed")
	}
	if _, ok := v.cache.get(hashToken(jwks), v.now()); ok {
		t.Fatal("the token of the removed JWKS key is still cached")
	}
}

// A verification that ends after a JWKS fetch dropped its key is not cached:
// the fetch's sweep has already run, so the entry would outlive the key.
func TestCachePutRefusesAGoneKID(t *testing.T) {
	c := configCache(Config{})
	c.setKids(map[string]bool{"k2": true}) // the fetch landed while a k1 token was being verified
	now := time.Now()
	for _, tc := range []struct {
		by   keyRef
		kept bool
	}{
		{keyRef{kid: "k1"}, false},
		{keyRef{kid: ""}, false}, // JWKS token without a kid: its key cannot be told
		{keyRef{kid: "k2"}, true},
		{keyRef{kid: "k1", static: true}, true},
	} {
		key := hashToken(tc.by.kid + fmt.Sprint(tc.by.static))
		c.put(key, cached{claims: &Claims{}, until: now.Add(time.Hour), by: tc.by}, now)
		if _, ok := c.get(key, now); ok != tc.kept {
			t.Errorf("%+v: cached = %v, want %v", tc.by, ok, tc.kept)
		}
	}
}
