package serverauth

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
	client := serve(t, v.admit)
	old := "Bearer " + sign("k1", baseClaims())
	if err := check(client, old); err != nil {
		t.Fatal(err)
	}
	j.set(false, "k2") // the issuer drops k1
	if err := check(client, "Bearer "+sign("k2", baseClaims())); err != nil {
		t.Fatalf("k2 after the refetch its kid caused: %v", err)
	}
	if err := check(client, old); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("token signed by the removed key: %v, want Unauthenticated", err)
	}
}

// A token without a kid, verified while the JWKS also held a key without
// one, is refused once the issuer removes the key that signed it.
func TestRemovedKeyEndsKIDlessTokens(t *testing.T) {
	j := startJWKS(t)
	j.publish(false, servedKey{kid: "k1", name: "k1"}, servedKey{name: "k2"})
	v, err := NewVerifier(j.config())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	old := signWith("k1", "", baseClaims())
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	j.publish(false, servedKey{name: "k2"}, servedKey{kid: "k3", name: "k3"}) // the issuer drops k1
	if _, err := v.Verify(ctx, sign("k3", baseClaims())); err != nil {
		t.Fatalf("k3 after the refetch its kid caused: %v", err)
	}
	if _, err := v.Verify(ctx, old); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("kid-less token signed by the removed key: %v, want Unauthenticated", err)
	}
}

// A token verified with a JWKS key is refused once the issuer publishes new
// key material under the same kid.
func TestReusedKIDEndsCachedTokens(t *testing.T) {
	j := startJWKS(t, "k1")
	v, err := NewVerifier(j.config())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	old := sign("k1", baseClaims())
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	j.publish(false, servedKey{kid: "k1", name: "k2"}, servedKey{kid: "k3", name: "k3"}) // k1 now names k2's material
	if _, err := v.Verify(ctx, sign("k3", baseClaims())); err != nil {
		t.Fatalf("k3 after the refetch its kid caused: %v", err)
	}
	if _, err := v.Verify(ctx, signWith("k2", "k1", baseClaims())); err != nil {
		t.Fatalf("token of the new key under the reused kid: %v", err)
	}
	if _, err := v.Verify(ctx, old); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("token signed by the key the kid used to name: %v, want Unauthenticated", err)
	}
}

// Tokens verified with a static key stay cached when the JWKS changes.
func TestStaticKeyEntriesSurviveJWKSChange(t *testing.T) {
	j := startJWKS(t, "k1")
	cfg := j.config()
	cfg.Issuers[0].StaticKeys = testKeys("k3")
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	static, jwks := sign("k3", baseClaims()), sign("k1", baseClaims())
	for _, tok := range []string{static, jwks} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	j.set(false, "k2")
	if _, err := v.Verify(ctx, sign("k2", baseClaims())); err != nil {
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
func TestCachePutRefusesAGoneKey(t *testing.T) {
	c := configCache(Config{})
	k1, k2 := keyFingerprint(t, "k1"), keyFingerprint(t, "k2")
	c.setKeys(1)(map[fingerprint]bool{k2: true}) // the fetch landed while a k1 token was being verified
	now := time.Now()
	for i, tc := range []struct {
		name string
		by   keyRef
		kept bool
	}{
		{"gone JWKS key", keyRef{fp: k1, src: 1}, false},
		{"JWKS token without a kid", keyRef{src: 1}, false}, // its key cannot be told
		{"current JWKS key", keyRef{fp: k2, src: 1}, true},
		{"another JWKS's key", keyRef{fp: k2, src: 2}, false},
		{"static key", keyRef{fp: k1, static: true}, true},
	} {
		key := hashToken(fmt.Sprint(i))
		c.put(key, cached{claims: &verified{}, until: now.Add(time.Hour), by: tc.by}, now)
		if _, ok := c.get(key, now); ok != tc.kept {
			t.Errorf("%s: cached = %v, want %v", tc.name, ok, tc.kept)
		}
	}
}

// keyFingerprint returns the fingerprint of the test key name's public half.
func keyFingerprint(t *testing.T, name string) fingerprint {
	t.Helper()
	fp, ok := fingerprintOf(&key(name).PublicKey)
	if !ok {
		t.Fatalf("no fingerprint for %s", name)
	}
	return fp
}
