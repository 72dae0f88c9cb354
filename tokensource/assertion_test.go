package tokensource_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/tokensource"
)

const tokenURL = "https://127.0.0.1:1/tenant/oauth2/v2.0/token"

// kmsKey stands in for a key in an HSM or a cloud KMS: a crypto.Signer that
// is not one of the standard library's key types.
type kmsKey struct {
	inner crypto.Signer
	signs int
}

func (k *kmsKey) Public() crypto.PublicKey { return k.inner.Public() }

func (k *kmsKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.signs++
	return k.inner.Sign(r, digest, opts)
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// parseAssertion verifies a with pub as a server would, and returns its
// header and claims.
func parseAssertion(t *testing.T, a string, pub crypto.PublicKey, alg string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(a, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{alg}), jwt.WithAudience(tokenURL), jwt.WithIssuer("client-1"),
		jwt.WithSubject("client-1"), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("the assertion does not verify: %v", err)
	}
	return tok.Header, claims
}

func TestSignedAssertionAlgorithms(t *testing.T) {
	rk, ek := rsaKey(t, 2048), ecKey(t, elliptic.P256())
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		opts []tokensource.AssertionOption
		alg  string
	}{
		{"RS256", rk, nil, "RS256"},
		{"PS256", rk, []tokensource.AssertionOption{tokensource.WithPSS()}, "PS256"},
		{"ES256", ek, nil, "ES256"},
		{"RS256 from a KMS", &kmsKey{inner: rk}, nil, "RS256"},
		{"ES256 from a KMS", &kmsKey{inner: ek}, nil, "ES256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sign, err := tokensource.SignedAssertion("client-1", tc.key, append(tc.opts, tokensource.WithKeyID("k1"))...)
			if err != nil {
				t.Fatal(err)
			}
			a, err := sign(context.Background(), tokenURL)
			if err != nil {
				t.Fatal(err)
			}
			hdr, c := parseAssertion(t, a, tc.key.Public(), tc.alg)
			if hdr["kid"] != "k1" || hdr["typ"] != "JWT" {
				t.Errorf("header %v, want kid k1 and typ JWT", hdr)
			}
			iat, _ := c.GetIssuedAt()
			exp, _ := c.GetExpirationTime()
			if d := exp.Sub(iat.Time); d != tokensource.AssertionLifetime {
				t.Errorf("exp is %v after iat, want %v", d, tokensource.AssertionLifetime)
			}
			if time.Since(iat.Time) > time.Minute || c["jti"] == "" {
				t.Errorf("iat %v, jti %v", iat, c["jti"])
			}
			if k, ok := tc.key.(*kmsKey); ok && k.signs != 1 {
				t.Errorf("the KMS key signed %d times, want 1", k.signs)
			}
		})
	}
}

func TestSignedAssertionIsFreshEachTime(t *testing.T) {
	k := ecKey(t, elliptic.P256())
	sign, err := tokensource.SignedAssertion("client-1", k)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[any]bool{}
	for range 50 {
		a, err := sign(context.Background(), tokenURL)
		if err != nil {
			t.Fatal(err)
		}
		_, c := parseAssertion(t, a, k.Public(), "ES256")
		if seen[c["jti"]] {
			t.Fatalf("jti %v repeated", c["jti"])
		}
		seen[c["jti"]] = true
	}
}

func TestSignedAssertionAudienceAndThumbprint(t *testing.T) {
	k := rsaKey(t, 2048)
	cert := selfSigned(t, k)
	sign, err := tokensource.SignedAssertion("client-1", k, tokensource.WithCertificate(cert),
		tokensource.WithAssertionAudience("https://issuer.example"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := sign(context.Background(), tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(a, claims, func(*jwt.Token) (any, error) { return k.Public(), nil },
		jwt.WithAudience("https://issuer.example"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.Raw)
	if got, want := tok.Header["x5t#S256"], base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("x5t#S256 %v, want %v", got, want)
	}
	if _, ok := tok.Header["kid"]; ok {
		t.Fatal("a kid was sent though none was given")
	}
}

func TestSignedAssertionRefusesBadKeys(t *testing.T) {
	other := rsaKey(t, 2048)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		opts []tokensource.AssertionOption
		want string
	}{
		{"RSA 1024", rsaKey(t, 1024), nil, "at least 2048"},
		{"P-384", ecKey(t, elliptic.P384()), nil, "P-256"},
		{"PSS with EC", ecKey(t, elliptic.P256()), []tokensource.AssertionOption{tokensource.WithPSS()}, "P-256"},
		{"nil", nil, nil, "needs a key"},
		{"certificate of another key", rsaKey(t, 2048), []tokensource.AssertionOption{tokensource.WithCertificate(selfSigned(t, other))}, "does not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokensource.SignedAssertion("client-1", tc.key, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := tokensource.SignedAssertion("", other); err == nil {
		t.Fatal("an empty client ID was accepted")
	}
}

func TestSignedAssertionPEM(t *testing.T) {
	rk, ek := rsaKey(t, 2048), ecKey(t, elliptic.P256())
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rk)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	cert := selfSigned(t, rk)
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	for _, tc := range []struct {
		name string
		pem  []byte
		pub  crypto.PublicKey
		alg  string
		x5t  bool
	}{
		{"PKCS #1", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), rk.Public(), "RS256", false},
		{"PKCS #8 with its certificate", append(block("CERTIFICATE", cert.Raw), block("PRIVATE KEY", pkcs8)...), rk.Public(), "RS256", true},
		{"SEC 1", block("EC PRIVATE KEY", sec1), ek.Public(), "ES256", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sign, err := tokensource.SignedAssertionPEM("client-1", tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			a, err := sign(context.Background(), tokenURL)
			if err != nil {
				t.Fatal(err)
			}
			hdr, _ := parseAssertion(t, a, tc.pub, tc.alg)
			if _, ok := hdr["x5t#S256"]; ok != tc.x5t {
				t.Fatalf("x5t#S256 in header: %v, want %v", ok, tc.x5t)
			}
		})
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not pem"),
		"cert only": block("CERTIFICATE", cert.Raw),
		"two keys":  append(block("PRIVATE KEY", pkcs8), block("EC PRIVATE KEY", sec1)...),
		"torn key":  block("PRIVATE KEY", pkcs8[:40]),
	} {
		if _, err := tokensource.SignedAssertionPEM("client-1", bad); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(pkcs8[:12])) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

func selfSigned(t *testing.T, k crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client-1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parseWith verifies a for aud with pub and returns its claims.
func parseWith(a string, pub crypto.PublicKey, aud string) (jwt.MapClaims, error) {
	c := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(a, c, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithAudience(aud), jwt.WithExpirationRequired())
	return c, err
}
