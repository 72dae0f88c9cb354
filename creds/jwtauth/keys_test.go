package jwtauth

import (
	"maps"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

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
