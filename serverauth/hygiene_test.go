package serverauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/MicahParks/jwkset"
	"google.golang.org/grpc/codes"
)

// A JWKS key that must not verify signatures is left out, and says why in
// the log; the set's other keys still work: one for encryption ("use":
// "enc"), one whose "key_ops" lack "verify", and an RSA key under 2048 bits
// (RFC 7518 §3.3).
func TestJWKSKeysThatMustNotVerify(t *testing.T) {
	j := startJWKS(t)
	j.publish(false,
		servedKey{kid: "k1", name: "k1"},
		servedKey{kid: "enc", name: "k2", use: jwkset.UseEnc},
		servedKey{kid: "encrypt-only", name: "k3", ops: []jwkset.KEYOPS{jwkset.KeyOpsEncrypt}},
		servedKey{kid: "verify-op", name: "k3", ops: []jwkset.KEYOPS{jwkset.KeyOpsVerify}},
		servedKey{kid: "short", name: "short"},
	)
	var logs strings.Builder
	var mu sync.Mutex
	cfg := j.config()
	cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	v := must(NewVerifier(cfg))
	defer v.Close()
	for kid, want := range map[string]codes.Code{
		"k1":           codes.OK,
		"verify-op":    codes.OK,
		"enc":          codes.Unauthenticated,
		"encrypt-only": codes.Unauthenticated,
		"short":        codes.Unauthenticated,
	} {
		name := map[string]string{"enc": "k2", "encrypt-only": "k3", "verify-op": "k3"}[kid]
		if name == "" {
			name = kid
		}
		if _, err := v.Verify(context.Background(), signWith(name, kid, baseClaims())); code(err) != want {
			t.Errorf("key %s: %v, want %v", kid, err, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{`kid=enc reason="its \"use\" is \"enc\""`, `kid=encrypt-only reason="its \"key_ops\" do not include \"verify\""`,
		"kid=short reason=\"an RSA key of 1024 bits is too short"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %s:\n%s", want, logs.String())
		}
	}
}

// Static keys are held to the same rules: RSA of 2048 bits or more, or
// ECDSA.
func TestStaticKeysChecked(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for name, tc := range map[string]struct {
		key  crypto.PublicKey
		want string
	}{
		"RSA 1024": {&shortKey().PublicKey, "1024 bits is too short"},
		"Ed25519":  {ed, "verifies no allowed algorithm"},
		"nil":      {nil, "verifies no allowed algorithm"},
		"ECDSA":    {&ec.PublicKey, ""},
		"RSA 2048": {&key("k1").PublicKey, ""},
	} {
		is := staticIssuer()
		is.StaticKeys = map[string]crypto.PublicKey{"k": tc.key}
		v, err := NewVerifier(Config{Issuers: []Issuer{is}})
		if err == nil {
			v.Close()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}
