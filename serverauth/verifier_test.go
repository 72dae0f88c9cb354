package serverauth

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func with(mut func(jwt.MapClaims)) jwt.MapClaims {
	c := baseClaims()
	mut(c)
	return c
}

func TestVerifierCases(t *testing.T) {
	j := startJWKS(t, "k1")
	cfg := j.config()
	cfg.MethodRoles = map[string][]string{"/grpc.health.v1.Health/*": {"Trader", "Admin"}}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	client := serve(t, v.admit)

	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, baseClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&key("k1").PublicKey))})
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, baseClaims())
	hsTok.Header["kid"] = "k1"
	hs, _ := hsTok.SignedString(pubPEM)

	for _, tc := range []struct {
		name string
		auth []string
		code codes.Code
	}{
		{"good", []string{"Bearer " + sign("k1", baseClaims())}, codes.OK},
		{"scheme in lower case", []string{"bearer " + sign("k1", baseClaims())}, codes.OK},
		{"expired", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))}, codes.Unauthenticated},
		{"not yet valid", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }))}, codes.Unauthenticated},
		{"no exp", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { delete(c, "exp") }))}, codes.Unauthenticated},
		{"wrong iss", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }))}, codes.Unauthenticated},
		{"wrong aud", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { c["aud"] = "api://other" }))}, codes.Unauthenticated},
		{"missing name", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { delete(c, "name") }))}, codes.Unauthenticated},
		{"missing oid", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { delete(c, "oid") }))}, codes.Unauthenticated},
		{"missing role", []string{"Bearer " + sign("k1", with(func(c jwt.MapClaims) { c["roles"] = []string{"Reader"} }))}, codes.PermissionDenied},
		{"alg none", []string{"Bearer " + none}, codes.Unauthenticated},
		{"HS256 signed with the RSA public key", []string{"Bearer " + hs}, codes.Unauthenticated},
		{"bad signature", []string{"Bearer " + sign("k1", baseClaims())[:200] + "x" + sign("k1", baseClaims())[201:]}, codes.Unauthenticated},
		{"no header", nil, codes.Unauthenticated},
		{"Bearer alone", []string{"Bearer"}, codes.Unauthenticated},
		{"Bearer and spaces", []string{"Bearer  "}, codes.Unauthenticated},
		{"Basic scheme", []string{"Basic dXNlcjpwYXNz"}, codes.Unauthenticated},
		{"10 KB of junk", []string{"Bearer " + strings.Repeat("j", 10<<10)}, codes.Unauthenticated},
		{"20 KB of junk", []string{"Bearer " + strings.Repeat("j", 20<<10)}, codes.Unauthenticated},
		{"two headers", []string{"Bearer " + sign("k1", baseClaims()), "Bearer " + sign("k1", baseClaims())}, codes.Unauthenticated},
	} {
		err := check(client, tc.auth...)
		if got := status.Code(err); got != tc.code {
			t.Errorf("%s: %v (%v), want %v", tc.name, got, err, tc.code)
		}
		for _, a := range tc.auth {
			if tok := strings.TrimPrefix(a, "Bearer "); len(tok) > 20 && err != nil && strings.Contains(err.Error(), tok[len(tok)-20:]) {
				t.Errorf("%s: error echoes the token: %v", tc.name, err)
			}
		}
	}
}

func TestUnknownKIDRefetchesOnceThenRejects(t *testing.T) {
	j := startJWKS(t, "k1")
	v, err := NewVerifier(j.config())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Fatal(err)
	}
	before := j.requests.Load()
	for range 3 {
		if _, err := v.Verify(ctx, sign("k3", baseClaims())); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := j.requests.Load() - before; n != 1 {
		t.Fatalf("JWKS requests for an unknown kid = %d, want 1 (rate-limited refetch)", n)
	}
}

func TestRotatedJWKSIsPickedUp(t *testing.T) {
	j := startJWKS(t, "k1")
	cfg := j.config()
	cfg.UnknownKIDRefresh = time.Nanosecond // no rate limit: every unknown kid refetches
	v, _ := NewVerifier(cfg)
	defer v.Close()
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign("k2", baseClaims())); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("k2 before rotation: %v", err)
	}
	j.set(false, "k1", "k2") // the issuer rotates in k2
	before := j.requests.Load()
	if _, err := v.Verify(ctx, sign("k2", baseClaims())); err != nil {
		t.Fatalf("rotated-in k2 not accepted after refetch: %v", err)
	}
	if n := j.requests.Load() - before; n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Fatalf("k1 after rotation: %v", err)
	}
}

func TestJWKSDownKeepsOldKeys(t *testing.T) {
	j := startJWKS(t, "k1")
	cfg := j.config()
	cfg.DisableCache = true
	cfg.UnknownKIDRefresh = time.Nanosecond
	var logs strings.Builder
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	v, _ := NewVerifier(cfg)
	defer v.Close()
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Fatal(err)
	}
	j.set(true)
	before := j.requests.Load()
	v.Verify(ctx, sign("k3", baseClaims())) // forces a refetch, which fails
	if j.requests.Load() == before {
		t.Fatal("no refetch was attempted")
	}
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Fatalf("old key refused while the JWKS is down: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "JWKS refresh failed") {
		t.Fatalf("the failed refresh was not logged: %q", logs.String())
	}
}

func TestCachedTokenStopsAtExp(t *testing.T) {
	clk := clocktest.New(time.Now())
	cfg := staticConfig("k1")
	cfg.Leeway, cfg.Now = -1, clk.Now
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := sign("k1", with(func(c jwt.MapClaims) { c["exp"] = clk.Now().Add(10 * time.Second).Unix() }))
	ctx := context.Background()
	for range 3 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.cache.entries); n != 1 {
		t.Fatalf("cache entries = %d, want 1", n)
	}
	clk.Advance(10 * time.Second)
	if _, err := v.Verify(ctx, tok); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("cached token accepted at its exp: %v", err)
	}
}

func TestCacheHitStillChecksRoles(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/grpc.health.v1.Health/Check": {"Admin"}}
	v, _ := NewVerifier(cfg)
	defer v.Close()
	tok := sign("k1", baseClaims())
	if _, err := v.Verify(context.Background(), tok); err != nil { // now cached
		t.Fatal(err)
	}
	client := serve(t, v.admit)
	if err := check(client, "Bearer "+tok); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("cached token without the role: %v", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.CacheSize = 16
	v, _ := NewVerifier(cfg)
	defer v.Close()
	for i := range 100 {
		if _, err := v.Verify(context.Background(), sign("k1", with(func(c jwt.MapClaims) { c["jti"] = i }))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.cache.entries); n > 16 {
		t.Fatalf("cache holds %d entries, bound is 16", n)
	}
}

func TestClaimsReachTheHandlerAndSkipList(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.Skip = []string{"/grpc.health.v1.Health/Check"}
	v, _ := NewVerifier(cfg)
	defer v.Close()
	if err := check(serve(t, v.admit)); err != nil {
		t.Fatalf("skipped method needs a token: %v", err)
	}
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+sign("k1", baseClaims())))
	ctx, err := v.check(in, "/x.Y/Z", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := ClaimsFromContext(ctx)
	if !ok || c["name"] != "Trading Bot" || c["oid"] != "o-1" || !slices.Contains(c.Roles(), "Trader") {
		t.Fatalf("claims = %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no issuers":    {},
		"HS256":         {Issuers: []Issuer{staticIssuer("k1")}, Algorithms: []string{"HS256"}},
		"none":          {Issuers: []Issuer{staticIssuer("k1")}, Algorithms: []string{"none"}},
		"bad JWKS URL":  {Issuers: []Issuer{{URL: testIssuer, Audiences: []string{audience}, JWKSURL: "::not a url"}}},
		"http JWKS URL": {Issuers: []Issuer{{URL: testIssuer, Audiences: []string{audience}, JWKSURL: "http://keys.example.test/jwks"}}},
		"short RSA key": {Issuers: []Issuer{{URL: testIssuer, Audiences: []string{audience}, StaticKeys: map[string]crypto.PublicKey{"k": &shortKey().PublicKey}}}},
	} {
		if v, err := NewVerifier(cfg); err == nil {
			v.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func testKeys(kids ...string) map[string]crypto.PublicKey {
	m := map[string]crypto.PublicKey{}
	for _, k := range kids {
		m[k] = &key(k).PublicKey
	}
	return m
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
