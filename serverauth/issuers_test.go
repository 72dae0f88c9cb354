package serverauth

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
)

const otherIssuer = "https://id.other.test/realm"

// issued returns base claims from iss for aud.
func issued(iss string, aud any) jwt.MapClaims {
	return with(func(c jwt.MapClaims) { c["iss"], c["aud"] = iss, aud })
}

// Each issuer's tokens verify only with that issuer's keys: a key trusted
// for one issuer does not admit a token that claims another, whether the
// keys are static or fetched.
func TestEachIssuerHasItsOwnKeys(t *testing.T) {
	j := startJWKS(t, "k2")
	v, err := NewVerifier(Config{HTTPClient: j.srv.Client(), Issuers: []Issuer{
		staticIssuer("k1"),
		{URL: otherIssuer, Audiences: []string{"other-api"}, JWKSURL: j.srv.URL},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		tok  string
		want codes.Code
	}{
		"A's token, A's key":               {sign("k1", issued(testIssuer, audience)), codes.OK},
		"B's token, B's key":               {sign("k2", issued(otherIssuer, "other-api")), codes.OK},
		"claims A, signed with B's key":    {sign("k2", issued(testIssuer, audience)), codes.Unauthenticated},
		"claims B, signed with A's key":    {sign("k1", issued(otherIssuer, "other-api")), codes.Unauthenticated},
		"claims B, A's key under B's kid":  {signWith("k1", "k2", issued(otherIssuer, "other-api")), codes.Unauthenticated},
		"claims an issuer nobody trusts":   {sign("k1", issued("https://evil.test", audience)), codes.Unauthenticated},
		"no iss":                           {sign("k1", with(func(c jwt.MapClaims) { delete(c, "iss") })), codes.Unauthenticated},
		"A's audience on B's token":        {sign("k2", issued(otherIssuer, audience)), codes.Unauthenticated},
		"B's token without a kid, B's key": {signWith("k2", "", issued(otherIssuer, "other-api")), codes.OK},
		"A's token without a kid, B's key": {signWith("k2", "", issued(testIssuer, audience)), codes.Unauthenticated},
	} {
		if _, err := v.Verify(ctx, tc.tok); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// The token's aud must hold one of the issuer's Audiences.
func TestAudiencesList(t *testing.T) {
	is := staticIssuer("k1")
	is.Audiences = []string{"api://orders", "00000000-0000-0000-0000-0000000000aa"}
	v := must(NewVerifier(Config{Issuers: []Issuer{is}}))
	defer v.Close()
	for aud, want := range map[any]codes.Code{
		"api://orders":                         codes.OK,
		"00000000-0000-0000-0000-0000000000aa": codes.OK,
		"api://other":                          codes.Unauthenticated,
		"":                                     codes.Unauthenticated,
	} {
		if _, err := v.Verify(context.Background(), sign("k1", issued(testIssuer, aud))); code(err) != want {
			t.Errorf("aud %q: %v, want %v", aud, err, want)
		}
	}
	for name, tc := range map[string]struct {
		aud  []string
		want codes.Code
	}{
		"one of several":  {[]string{"api://other", "api://orders"}, codes.OK},
		"none of several": {[]string{"api://other", "api://third"}, codes.Unauthenticated},
	} {
		if _, err := v.Verify(context.Background(), sign("k1", issued(testIssuer, tc.aud))); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// Issuer.Claims must match exactly, as strings.
func TestIssuerClaims(t *testing.T) {
	is := staticIssuer("k1")
	is.Claims = map[string]string{"tid": "tenant-1", "ver": "2.0"}
	v := must(NewVerifier(Config{Issuers: []Issuer{is}}))
	defer v.Close()
	for name, tc := range map[string]struct {
		mut  func(jwt.MapClaims)
		want codes.Code
	}{
		"both match":   {func(c jwt.MapClaims) { c["tid"], c["ver"] = "tenant-1", "2.0" }, codes.OK},
		"other tenant": {func(c jwt.MapClaims) { c["tid"], c["ver"] = "tenant-2", "2.0" }, codes.Unauthenticated},
		"no tid":       {func(c jwt.MapClaims) { c["ver"] = "2.0" }, codes.Unauthenticated},
		"ver 1.0":      {func(c jwt.MapClaims) { c["tid"], c["ver"] = "tenant-1", "1.0" }, codes.Unauthenticated},
		"ver a number": {func(c jwt.MapClaims) { c["tid"], c["ver"] = "tenant-1", 2.0 }, codes.Unauthenticated},
	} {
		if _, err := v.Verify(context.Background(), sign("k1", with(tc.mut))); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// Type checks the typ header as RFC 9068 asks, when set; unset, typ is not
// looked at.
func TestTypeCheck(t *testing.T) {
	strict := staticIssuer("k1")
	strict.Type = "at+jwt"
	for name, tc := range map[string]struct {
		is   Issuer
		typ  string
		want codes.Code
	}{
		"at+jwt":                        {strict, "at+jwt", codes.OK},
		"application/at+jwt":            {strict, "application/at+jwt", codes.OK},
		"AT+JWT":                        {strict, "AT+JWT", codes.OK},
		"JWT where at+jwt is required":  {strict, "JWT", codes.Unauthenticated},
		"none where at+jwt is required": {strict, "", codes.Unauthenticated},
		"application/ alone":            {strict, "application/", codes.Unauthenticated},
		"JWT, no Type set":              {staticIssuer("k1"), "JWT", codes.OK},
		"at+jwt, no Type set":           {staticIssuer("k1"), "at+jwt", codes.OK},
	} {
		v := must(NewVerifier(Config{Issuers: []Issuer{tc.is}}))
		tok := signHeader("k1", map[string]any{"kid": "k1", "typ": tc.typ}, baseClaims())
		if tc.typ == "" {
			tok = signHeader("k1", map[string]any{"kid": "k1", "typ": nil}, baseClaims())
		}
		if _, err := v.Verify(context.Background(), tok); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		v.Close()
	}
}

// A crit header names extensions the verifier must understand (RFC 7515
// §4.1.11); it understands none, so any crit is refused.
func TestCritHeaderRefused(t *testing.T) {
	v := must(NewVerifier(staticConfig("k1")))
	defer v.Close()
	for _, crit := range []any{[]string{"b64"}, []string{"exp"}, []string{}, "b64"} {
		tok := signHeader("k1", map[string]any{"kid": "k1", "crit": crit, "b64": true, "exp": 1}, baseClaims())
		if _, err := v.Verify(context.Background(), tok); code(err) != codes.Unauthenticated {
			t.Errorf("crit %v: %v, want Unauthenticated", crit, err)
		}
	}
}

// Issuers that name the same JWKS URL share one fetch.
func TestSharedJWKSFetchedOnce(t *testing.T) {
	j := startJWKS(t, "k1")
	v := must(NewVerifier(Config{HTTPClient: j.srv.Client(), Issuers: []Issuer{
		{URL: testIssuer, Audiences: []string{audience}, JWKSURL: j.srv.URL},
		{URL: otherIssuer, Audiences: []string{audience}, JWKSURL: j.srv.URL},
	}}))
	defer v.Close()
	for _, iss := range []string{testIssuer, otherIssuer} {
		if _, err := v.Verify(context.Background(), sign("k1", issued(iss, audience))); err != nil {
			t.Errorf("%s: %v", iss, err)
		}
	}
	if n := j.requests.Load(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1 for two issuers sharing it", n)
	}
}

// The cached check costs the same allocations with 1 or 50 issuers, and
// finding a token's issuer on a miss is a map lookup.
func TestCachedCheckDoesNotGrowWithIssuers(t *testing.T) {
	allocs := map[int]float64{}
	for _, n := range []int{1, 50} {
		v := must(NewVerifier(Config{Issuers: manyIssuers(n)}))
		tok := sign("k1", baseClaims())
		if _, err := callAs(v, "/pkg.S/M", tok); err != nil {
			t.Fatal(err)
		}
		allocs[n] = testing.AllocsPerRun(200, func() { callAs(v, "/pkg.S/M", tok) })
		v.Close()
	}
	if allocs[1] != allocs[50] {
		t.Errorf("allocations per cached check: %v with 1 issuer, %v with 50", allocs[1], allocs[50])
	}
}

// manyIssuers returns n issuers with static keys, the test issuer last.
func manyIssuers(n int) []Issuer {
	out := make([]Issuer, 0, n)
	for i := range n - 1 {
		is := staticIssuer("k2")
		is.URL = otherIssuer + "/" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		out = append(out, is)
	}
	return append(out, staticIssuer("k1"))
}

// RequireScopeOrRole refuses a token that grants neither (an ID token).
func TestRequireScopeOrRole(t *testing.T) {
	is := staticIssuer("k1")
	is.RequireScopeOrRole = true
	v := must(NewVerifier(Config{Issuers: []Issuer{is}}))
	defer v.Close()
	for name, tc := range map[string]struct {
		mut  func(jwt.MapClaims)
		want codes.Code
	}{
		"roles":       {func(jwt.MapClaims) {}, codes.OK},
		"scp only":    {func(c jwt.MapClaims) { delete(c, "roles"); c["scp"] = "Orders.Read" }, codes.OK},
		"neither":     {func(c jwt.MapClaims) { delete(c, "roles") }, codes.Unauthenticated},
		"empty roles": {func(c jwt.MapClaims) { c["roles"] = []string{} }, codes.Unauthenticated},
		"blank scp":   {func(c jwt.MapClaims) { delete(c, "roles"); c["scp"] = " " }, codes.Unauthenticated},
	} {
		if _, err := v.Verify(context.Background(), sign("k1", with(tc.mut))); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
