package serverauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
)

// checkIssuers refuses a Config that would accept tokens from any issuer or
// for any audience without saying so, or that says both.
func checkIssuers(cfg Config) error {
	if len(cfg.Issuers) == 0 && cfg.Introspection == nil {
		return errors.New("serverauth: Config.Issuers is empty: list the issuers whose tokens you accept, or set Introspection")
	}
	if cfg.SkipIssuerCheck {
		if len(cfg.Issuers) != 1 || cfg.Issuers[0].URL != "" {
			return errors.New("serverauth: SkipIssuerCheck needs exactly one Issuer, with an empty URL: its keys then verify tokens of any issuer")
		}
		if cfg.Issuers[0].JWKSURL == "" && len(cfg.Issuers[0].StaticKeys) == 0 {
			return errors.New("serverauth: with SkipIssuerCheck, the Issuer needs JWKSURL or StaticKeys (there is no issuer to discover them from)")
		}
	}
	seen := map[string]bool{}
	var errs []error
	for i, is := range cfg.Issuers {
		name := fmt.Sprintf("Issuers[%d] (%q)", i, is.URL)
		if !cfg.SkipIssuerCheck && seen[is.URL] {
			errs = append(errs, fmt.Errorf("serverauth: %s is listed twice", name))
		}
		seen[is.URL] = true
		if problem := checkIssuer(is, cfg.SkipIssuerCheck); problem != "" {
			errs = append(errs, fmt.Errorf("serverauth: %s: %s", name, problem))
		}
	}
	return errors.Join(errs...)
}

// checkIssuer returns what is wrong with is, or "".
func checkIssuer(is Issuer, anyIssuer bool) string {
	switch {
	case is.URL == "" && !anyIssuer:
		return "URL is empty: set it to the iss claim of the tokens you accept " +
			"(for Azure AD, serverauth/azure lists them), or set Config.SkipIssuerCheck to accept any issuer the keys verify"
	case len(is.Audiences) == 0 && !is.SkipAudienceCheck:
		return "Audiences is empty: set it to the aud claim of tokens meant for this API " +
			"(Azure AD: the application (client) ID, or the App ID URI such as api://<app>), or set SkipAudienceCheck to accept tokens for any app"
	case len(is.Audiences) > 0 && is.SkipAudienceCheck:
		return "Audiences and SkipAudienceCheck are both set: keep one"
	case slices.Contains(is.Audiences, ""):
		return "Audiences lists an empty audience"
	}
	for name, want := range is.Claims {
		if name == "" || want == "" {
			return "Claims names an empty claim or an empty value (which a missing claim would match)"
		}
	}
	for _, u := range []struct{ name, url string }{{"JWKSURL", is.JWKSURL}, {"DiscoveryURL", is.DiscoveryURL}} {
		if u.url == "" {
			continue
		}
		if err := checkFetchURL(u.url); err != nil {
			return u.name + ": " + err.Error()
		}
	}
	if is.DiscoveryURL != "" && (is.JWKSURL != "" || len(is.StaticKeys) > 0) {
		return "DiscoveryURL is set beside JWKSURL or StaticKeys, which take its place: keep one"
	}
	if is.JWKSURL == "" && len(is.StaticKeys) == 0 && is.DiscoveryURL == "" {
		if err := checkFetchURL(is.URL); err != nil {
			return "no JWKSURL or StaticKeys, and the URL to discover them from: " + err.Error()
		}
	}
	return ""
}

// noDowngrade returns c (default http.DefaultClient) made to refuse a
// redirect to a URL [checkFetchURL] refuses, unless c has a CheckRedirect
// of its own.
func noDowngrade(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	if c.CheckRedirect != nil {
		return c
	}
	safe := *c
	safe.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return checkFetchURL(req.URL.String())
	}
	return &safe
}

// checkFetchURL refuses a URL keys would be fetched from without TLS, other
// than to a loopback address: whoever could change the keys in transit
// could sign tokens.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q is not https (http is allowed only to a loopback address): keys fetched in the clear could be replaced in transit", raw)
}
