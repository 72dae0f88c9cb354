//go:build integration

package integration

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// jwtClientID is the provider's second client, which authenticates with
// private_key_jwt (a signed client assertion) instead of a secret.
const jwtClientID = "integration-jwt-app"

// The key IDs under which the client's public keys are registered.
const (
	rsaKid = "jwt-app-rsa-1"
	ecKid  = "jwt-app-ec-1"
)

// TestClientAssertion: a client registered with token_endpoint_auth_method
// private_key_jwt gets tokens through tokensource.ClientCredentials with
// tokensource.SignedAssertion, behind the refresh engine, for every
// algorithm the provider accepts; a key the provider does not know is
// refused as Unauthenticated without the assertion in the error; and every
// fetch signs a fresh assertion, which the provider requires (it refuses a
// replayed jti).
func TestClientAssertion(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spec := tenantA
	spec.jwtClientJWKS = publicJWKS(t, map[string]crypto.PublicKey{rsaKid: rsaKey.Public(), ecKid: ecKey.Public()})
	p := startTenant(t, spec)
	srv := apiServer(t, p)
	ctx := context.Background()
	kf, err := keyfunc.NewJWKSetJSON(get(t, p, p.jwksURL()))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, alg string
		key       crypto.Signer
		opts      []tokensource.AssertionOption
		aud       string // the assertion's expected aud; "": the token endpoint's URL
	}{
		{"RS256", "RS256", rsaKey, []tokensource.AssertionOption{tokensource.WithKeyID(rsaKid)}, ""},
		{"ES256 with the P-256 key", "ES256", ecKey, []tokensource.AssertionOption{tokensource.WithKeyID(ecKid)}, ""},
		{"PS256 with the RSA key", "PS256", rsaKey, []tokensource.AssertionOption{tokensource.WithKeyID(rsaKid), tokensource.WithPSS()}, ""},
		{"RS256 without a kid", "RS256", rsaKey, nil, ""},
		{"aud the issuer", "RS256", rsaKey, []tokensource.AssertionOption{tokensource.WithKeyID(rsaKid),
			tokensource.WithAssertionAudience(p.issuer())}, p.issuer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			a := signedAssertion(t, tc.key, tc.opts...)
			tok, err := refreshing(t, assertionCredentials(p, rec.wrap(a))).TokenContext(ctx)
			if err != nil {
				t.Fatalf("token with a %s assertion: %v", tc.alg, err)
			}
			hdr, claims := rec.only(t)
			wantAud := tc.aud
			if wantAud == "" {
				wantAud = p.tokenURL()
			}
			aud, _ := claims.GetAudience()
			if hdr["alg"] != tc.alg || claims["iss"] != jwtClientID || claims["sub"] != jwtClientID || len(aud) != 1 || aud[0] != wantAud {
				t.Fatalf("assertion header %v, claims %v: want alg %s, iss and sub %s, aud %s", hdr, claims, tc.alg, jwtClientID, wantAud)
			}
			checkAccessToken(t, p, kf, tok.AccessToken)
			if err := grpccredstest.HealthCheck(ctx, dialToken(t, srv, tok.AccessToken)); err != nil {
				t.Fatalf("the API refused the token: %v", err)
			}
			t.Logf("assertion alg %s, kid %v, aud %s: token issued (kid %s, aud %s, client_id %s) and admitted by the API",
				hdr["alg"], hdr["kid"], aud, kidOf(t, tok.AccessToken), audience, jwtClientID)
		})
	}

	t.Run("wrong key: Unauthenticated, the assertion not in the error", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		var rec recorder
		a := signedAssertion(t, other, tokensource.WithKeyID(rsaKid)) // the registered kid, another key
		fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_, err = refreshing(t, assertionCredentials(p, rec.wrap(a))).TokenContext(fctx)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("%v (code %v), want Unauthenticated naming invalid_client", err, status.Code(err))
		}
		rec.notIn(t, err)
		t.Logf("%d assertion(s) signed with an unregistered key under kid %s: %v", len(rec.all()), rsaKid, err)
	})

	t.Run("a crypto.Signer that is not a Go private key", func(t *testing.T) {
		for _, tc := range []struct {
			alg, kid string
			key      crypto.Signer
		}{{"RS256", rsaKid, rsaKey}, {"ES256", ecKid, ecKey}} {
			s := &externalSigner{key: tc.key}
			var rec recorder
			tok, err := refreshing(t, assertionCredentials(p, rec.wrap(signedAssertion(t, s, tokensource.WithKeyID(tc.kid))))).TokenContext(ctx)
			if err != nil {
				t.Fatalf("%s through a %T: %v", tc.alg, s, err)
			}
			if hdr, _ := rec.only(t); hdr["alg"] != tc.alg || s.calls.Load() != 1 || s.bad.Load() != nil {
				t.Fatalf("alg %v, %d Sign calls, bad call %v: want %s, one call with a SHA-256 digest", hdr["alg"], s.calls.Load(), s.bad.Load(), tc.alg)
			}
			checkAccessToken(t, p, kf, tok.AccessToken)
			t.Logf("%s signed by a %T wrapping a %T (%d Sign call, SHA-256 digest): token issued", tc.alg, s, tc.key, s.calls.Load())
		}
	})

	t.Run("a fresh jti for every fetch", func(t *testing.T) {
		var rec recorder
		a := rec.wrap(signedAssertion(t, rsaKey, tokensource.WithKeyID(rsaKid)))
		for i := range 2 { // two sources, two engines: two fetches, not a cached token
			if _, err := refreshing(t, assertionCredentials(p, a)).TokenContext(ctx); err != nil {
				t.Fatalf("fetch %d: %v", i+1, err)
			}
		}
		all := rec.all()
		if len(all) != 2 || all[0].claims["jti"] == all[1].claims["jti"] {
			t.Fatalf("%d assertions, want 2 with different jti", len(all))
		}
		t.Logf("two fetches in a row, both issued: jti %v, then %v", all[0].claims["jti"], all[1].claims["jti"])

		// The control: the provider does refuse an assertion it has seen.
		once, err := a(ctx, p.tokenURL())
		if err != nil {
			t.Fatal(err)
		}
		replay := tokensource.ClientAssertion(func(context.Context, string) (string, error) { return once, nil })
		if _, err := refreshing(t, assertionCredentials(p, replay)).TokenContext(ctx); err != nil {
			t.Fatalf("first use of the assertion: %v", err)
		}
		fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_, err = refreshing(t, assertionCredentials(p, replay)).TokenContext(fctx)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("the same assertion again: %v (code %v), want Unauthenticated naming invalid_client", err, status.Code(err))
		}
		rec.notIn(t, err)
		t.Logf("the same assertion (same jti) a second time: %v", err)
	})
}

// assertionCredentials is a client-credentials source for jwtClientID, for
// the provider's default resource, authenticating with a. AuthStyle is left
// to ClientCredentials, which sends the client ID in the body.
func assertionCredentials(p *provider, a tokensource.ClientAssertion) oauth2.TokenSource {
	cfg := &clientcredentials.Config{ClientID: jwtClientID, TokenURL: p.tokenURL(), Scopes: []string{audience + "/.default"}}
	return tokensource.ClientCredentials(providerContext(p), cfg, tokensource.WithClientAssertion(a))
}

// refreshing puts the refresh engine in front of src, closed when the test
// ends.
func refreshing(t *testing.T, src oauth2.TokenSource) *tokensource.Refresher {
	t.Helper()
	r, err := tokensource.Refreshing(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func signedAssertion(t *testing.T, key crypto.Signer, opts ...tokensource.AssertionOption) tokensource.ClientAssertion {
	t.Helper()
	a, err := tokensource.SignedAssertion(jwtClientID, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkAccessToken verifies an access token with p's published keys: signed
// by p, for audience, issued to jwtClientID.
func checkAccessToken(t *testing.T, p *provider, kf keyfunc.Keyfunc, token string) {
	t.Helper()
	var c jwt.MapClaims
	if _, err := jwt.ParseWithClaims(token, &c, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(p.issuer()), jwt.WithAudience(audience), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("access token: %v", err)
	}
	if c["client_id"] != jwtClientID {
		t.Fatalf("access token claims %v: want client_id %s", c, jwtClientID)
	}
}

// publicJWKS is a JWK Set of the public keys, under their key IDs, with no
// "alg", so that an RSA key may sign RS256 and PS256.
func publicJWKS(t *testing.T, keys map[string]crypto.PublicKey) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range keys {
		switch k := k.(type) {
		case *rsa.PublicKey:
			set.Keys = append(set.Keys, map[string]string{"kty": "RSA", "kid": kid, "use": "sig",
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
		case *ecdsa.PublicKey:
			pt, err := k.Bytes() // 0x04 ‖ x ‖ y
			if err != nil {
				t.Fatal(err)
			}
			set.Keys = append(set.Keys, map[string]string{"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
				"x": b64(pt[1:33]), "y": b64(pt[33:])})
		default:
			t.Fatalf("publicJWKS: %T", k)
		}
	}
	out, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// externalSigner is a crypto.Signer that is not a Go private key type,
// standing in for a key in an HSM or a cloud KMS. It records its calls and
// any whose digest is not SHA-256.
type externalSigner struct {
	key   crypto.Signer
	calls atomic.Int32
	bad   atomic.Pointer[string]
}

func (s *externalSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *externalSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	if opts.HashFunc() != crypto.SHA256 || len(digest) != crypto.SHA256.Size() {
		bad := fmt.Sprintf("hash %v, %d-byte digest", opts.HashFunc(), len(digest))
		s.bad.Store(&bad)
	}
	return s.key.Sign(r, digest, opts)
}

// recorder keeps the assertions a ClientAssertion made.
type recorder struct {
	mu   sync.Mutex
	list []recorded
}

type recorded struct {
	text   string
	header map[string]any
	claims jwt.MapClaims
}

func (r *recorder) wrap(a tokensource.ClientAssertion) tokensource.ClientAssertion {
	return func(ctx context.Context, tokenURL string) (string, error) {
		s, err := a(ctx, tokenURL)
		if err == nil {
			rec := recorded{text: s}
			if parsed, _, perr := jwt.NewParser().ParseUnverified(s, jwt.MapClaims{}); perr == nil {
				rec.header, rec.claims = parsed.Header, parsed.Claims.(jwt.MapClaims)
			}
			r.mu.Lock()
			r.list = append(r.list, rec)
			r.mu.Unlock()
		}
		return s, err
	}
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.list...)
}

// only returns the header and claims of the one assertion made.
func (r *recorder) only(t *testing.T) (header map[string]any, claims jwt.MapClaims) {
	t.Helper()
	all := r.all()
	if len(all) != 1 || all[0].claims == nil {
		t.Fatalf("%d assertions made (or one unreadable), want one", len(all))
	}
	return all[0].header, all[0].claims
}

// notIn fails the test if err's text holds any assertion made, any of its
// three parts, any 16 characters of it in a row, or its jti.
func (r *recorder) notIn(t *testing.T, err error) {
	t.Helper()
	all := r.all()
	if len(all) == 0 {
		t.Fatal("no assertion was made")
	}
	msg := err.Error()
	for _, a := range all {
		parts := strings.Split(a.text, ".")
		if jti, ok := a.claims["jti"].(string); ok {
			parts = append(parts, jti)
		}
		for i := 0; i+16 <= len(a.text); i++ {
			parts = append(parts, a.text[i:i+16])
		}
		for _, part := range parts {
			if part != "" && strings.Contains(msg, part) {
				t.Fatalf("the error holds part of the assertion (%q): %v", part, err)
			}
		}
	}
}
