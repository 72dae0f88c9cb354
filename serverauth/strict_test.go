package serverauth

import (
	"context"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// foreign is a token signed by the same keys but issued for another tenant
// and another app, as Azure AD's shared keys allow.
func foreign() string {
	return sign("k1", with(func(c jwt.MapClaims) {
		c["iss"] = "https://login.example.test/other-tenant/v2.0"
		c["aud"] = "api://someone-elses-app"
	}))
}

func TestIssuerAndAudienceRequired(t *testing.T) {
	j := startJWKS(t, "k1")
	for name, tc := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"neither":     {func(*Config) {}, "SkipIssuerCheck"},
		"no issuer":   {func(c *Config) { c.Issuers[0].Audiences = []string{audience} }, "serverauth/azure"},
		"no audience": {func(c *Config) { c.Issuers[0].URL = testIssuer }, "SkipAudienceCheck"},
		"issuer and SkipIssuerCheck": {func(c *Config) {
			c.Issuers[0].URL, c.SkipIssuerCheck, c.Issuers[0].Audiences = testIssuer, true, []string{audience}
		}, "empty URL"},
		"audience and SkipAudienceCheck": {func(c *Config) {
			c.Issuers[0].URL, c.Issuers[0].Audiences, c.Issuers[0].SkipAudienceCheck = testIssuer, []string{audience}, true
		}, "both set"},
		"an empty audience": {func(c *Config) {
			c.Issuers[0].URL, c.Issuers[0].Audiences = testIssuer, []string{audience, ""}
		}, "empty audience"},
		"an issuer twice": {func(c *Config) {
			c.Issuers[0].URL, c.Issuers[0].Audiences = testIssuer, []string{audience}
			c.Issuers = append(c.Issuers, c.Issuers[0])
		}, "listed twice"},
		"SkipIssuerCheck with two issuers": {func(c *Config) {
			c.SkipIssuerCheck, c.Issuers[0].Audiences = true, []string{audience}
			c.Issuers = append(c.Issuers, c.Issuers[0])
		}, "exactly one Issuer"},
	} {
		cfg := Config{Issuers: []Issuer{{JWKSURL: j.srv.URL}}, HTTPClient: j.srv.Client()}
		tc.mut(&cfg)
		v, err := NewVerifier(cfg)
		if err == nil {
			_, verr := v.Verify(context.Background(), foreign())
			v.Close()
			t.Errorf("%s: config accepted; a token for another tenant and app then gets: %v", name, verr)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", name, err, tc.want)
		}
	}
}

// The default refuses a token for another tenant and app; each Skip* lets
// through exactly what it names.
func TestSkipChecksAdmitWhatTheyName(t *testing.T) {
	for name, tc := range map[string]struct {
		mut  func(*Config)
		code codes.Code
	}{
		"strict":                 {func(*Config) {}, codes.Unauthenticated},
		"SkipIssuerCheck only":   {func(c *Config) { c.Issuers[0].URL, c.SkipIssuerCheck = "", true }, codes.Unauthenticated},
		"SkipAudienceCheck only": {func(c *Config) { c.Issuers[0].Audiences, c.Issuers[0].SkipAudienceCheck = nil, true }, codes.Unauthenticated},
		"both skipped": {func(c *Config) {
			c.Issuers[0].URL, c.SkipIssuerCheck, c.Issuers[0].Audiences, c.Issuers[0].SkipAudienceCheck = "", true, nil, true
		}, codes.OK},
	} {
		cfg := staticConfig("k1")
		tc.mut(&cfg)
		v, err := NewVerifier(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = v.Verify(context.Background(), foreign())
		v.Close()
		if got := status.Code(err); got != tc.code {
			t.Errorf("%s: foreign token got %v (%v), want %v", name, got, err, tc.code)
		}
	}
}
