package serverauth

import (
	"context"
	"maps"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Changing the StaticKeys map after NewVerifier changes nothing: a key added
// later is not trusted, and a key replaced later still is.
func TestStaticKeysCopied(t *testing.T) {
	cfg := staticConfig("k1")
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	cfg.Issuers[0].StaticKeys["k2"] = &key("k2").PublicKey
	cfg.Issuers[0].StaticKeys["k1"] = &key("k3").PublicKey
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign("k2", baseClaims())); status.Code(err) != codes.Unauthenticated {
		t.Errorf("token of a key added to the map later: %v, want Unauthenticated", err)
	}
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Errorf("token of the key given at NewVerifier, replaced in the map later: %v", err)
	}
}

// A fetched private key counts by its public half, as keyfunc verifies with
// it; a key set, as keyfunc offers for a token without a kid, has no
// fingerprint.
func TestFingerprints(t *testing.T) {
	var fetched []jwkset.JWK
	for _, k := range []any{key("k1"), &key("k2").PublicKey} {
		jwk, err := jwkset.NewJWKFromKey(k, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "k"}})
		if err != nil {
			t.Fatal(err)
		}
		fetched = append(fetched, jwk)
	}
	want := map[fingerprint]bool{keyFingerprint(t, "k1"): true, keyFingerprint(t, "k2"): true}
	if got := fingerprints(fetched); !maps.Equal(got, want) {
		t.Errorf("fingerprints = %v, want those of k1 and k2", got)
	}
	set := jwt.VerificationKeySet{Keys: []jwt.VerificationKey{&key("k1").PublicKey}}
	if _, ok := fingerprintOf(set); ok {
		t.Error("a key set has a fingerprint")
	}
}
