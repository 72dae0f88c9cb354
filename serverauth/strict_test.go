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
	base := Config{JWKSURL: j.srv.URL, HTTPClient: j.srv.Client()}
	for name, tc := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"neither":     {func(*Config) {}, "SkipIssuerCheck"},
		"no issuer":   {func(c *Config) { c.Audience = audience }, "login.microsoftonline.com/<tenant-id>/v2.0"},
		"no audience": {func(c *Config) { c.Issuer = issuer }, "SkipAudienceCheck"},
		"issuer and SkipIssuerCheck": {func(c *Config) {
			c.Issuer, c.SkipIssuerCheck, c.Audience = issuer, true, audience
		}, "both set"},
		"audience and SkipAudienceCheck": {func(c *Config) {
			c.Issuer, c.Audience, c.SkipAudienceCheck = issuer, audience, true
		}, "both set"},
	} {
		cfg := base
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
		"SkipIssuerCheck only":   {func(c *Config) { c.Issuer, c.SkipIssuerCheck = "", true }, codes.Unauthenticated},
		"SkipAudienceCheck only": {func(c *Config) { c.Audience, c.SkipAudienceCheck = "", true }, codes.Unauthenticated},
		"both skipped": {func(c *Config) {
			c.Issuer, c.SkipIssuerCheck, c.Audience, c.SkipAudienceCheck = "", true, "", true
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
