// Package azure is the server side of Azure AD (Microsoft Entra ID): it
// lists the [serverauth.Issuer] values that accept the access tokens Azure
// AD issues for an API registered there, in both of its formats.
//
// It is plain configuration, with no MSAL and no network access; the keys
// are fetched by the serverauth.Verifier the issuers are given to. Its name
// is the same as the client-side package tokensource/azure, so a program
// that uses both imports one under an alias:
//
//	import azureauth "github.com/grpccreds/grpccreds/serverauth/azure"
//
//	issuers, err := azureauth.API{TenantID: tenant, ClientID: apiClientID, AppIDURI: "api://energy-trading"}.Issuers()
//	if err != nil { … }
//	v, err := serverauth.NewVerifier(serverauth.Config{Issuers: issuers, RequiredClaims: []string{"oid"}})
//
// Azure AD issues an API's access tokens in the format its registration
// asks for (accessTokenAcceptedVersion in the manifest: unset or 1 gives
// v1.0, 2 gives v2.0), whichever endpoint the client used:
//
//   - v1.0: iss is https://sts.windows.net/{tenant}/ and ver "1.0"; aud is
//     the App ID URI (api://…) the client asked for, or the API's client ID.
//   - v2.0: iss is https://login.microsoftonline.com/{tenant}/v2.0 and ver
//     "2.0"; aud is the API's client ID.
//
// Both are signed with the keys at
// https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys, and
// Microsoft signs every tenant's tokens with the same keys: a valid
// signature says nothing about the tenant. The tenant boundary is the
// issuer, which names it, and the tid claim, which must name it too.
package azure

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/grpccreds/grpccreds/serverauth"
)

// Hosts of the global Azure cloud, the defaults of [API]'s AuthorityHost and
// V1IssuerHost.
const (
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	DefaultV1IssuerHost  = "https://sts.windows.net"
)

// API describes an API registered in Azure AD (Entra ID), whose access
// tokens a server accepts. Its [API.Issuers] are the configuration to give
// serverauth.Config.
type API struct {
	// TenantID is the API's home tenant: the Directory (tenant) ID, a GUID.
	// Required.
	TenantID string
	// ClientID is the API's Application (client) ID, a GUID: the aud of
	// v2.0 tokens, and of v1.0 tokens a client asked for by client ID.
	// Required.
	ClientID string
	// AppIDURI is the API's Application ID URI (api://… or https://…): the
	// aud of v1.0 tokens a client asked for by that URI, as with the scope
	// "api://energy-trading/.default". Optional: unset, only tokens whose
	// aud is ClientID are accepted.
	AppIDURI string

	// AllowedTenants are, for a multi-tenant API, the other tenants (by
	// GUID) whose tokens are accepted: each gets its own issuers, requiring
	// its own tid. There is no "any tenant": "common", "organizations" and
	// "consumers" are not tenants, and no token names them.
	AllowedTenants []string

	// AuthorityHost is the Azure AD host that issues v2.0 tokens and
	// publishes the keys (default [DefaultAuthorityHost]). V1IssuerHost is
	// the host in the iss of v1.0 tokens (default [DefaultV1IssuerHost]),
	// that of the issuer AuthorityHost/{tenant}/.well-known/openid-configuration
	// names.
	// Set both for a national cloud. Each is https, or http to a loopback
	// address (for tests), with no path.
	AuthorityHost string
	V1IssuerHost  string
}

// Issuers returns the issuers that accept the API's access tokens: for its
// home tenant and then each of AllowedTenants, a v1.0 issuer
// (V1IssuerHost/{tenant}/) and a v2.0 issuer (AuthorityHost/{tenant}/v2.0).
// Each accepts the audiences ClientID and AppIDURI, requires the token's
// tid to be the tenant and its ver to be "1.0" or "2.0" respectively,
// refuses a token with neither scp nor roles (an ID token for the same
// app: serverauth.Issuer.RequireScopeOrRole), and takes its keys from AuthorityHost/{tenant}/discovery/v2.0/keys: the v1.0
// and v2.0 issuers of a tenant name the same JWKSURL, which the Verifier
// fetches once.
//
// GUIDs are compared in lower case, as Azure AD writes them in tokens. The
// error names every setting that is wrong.
func (a API) Issuers() ([]serverauth.Issuer, error) {
	tenants, audiences, authority, v1Host, err := a.check()
	if err != nil {
		return nil, err
	}
	issuers := make([]serverauth.Issuer, 0, 2*len(tenants))
	for _, t := range tenants {
		keys := authority + "/" + t + "/discovery/v2.0/keys"
		issuers = append(issuers,
			serverauth.Issuer{URL: v1Host + "/" + t + "/", Audiences: slices.Clone(audiences), JWKSURL: keys,
				Claims: map[string]string{"tid": t, "ver": "1.0"}, RequireScopeOrRole: true},
			serverauth.Issuer{URL: authority + "/" + t + "/v2.0", Audiences: slices.Clone(audiences), JWKSURL: keys,
				Claims: map[string]string{"tid": t, "ver": "2.0"}, RequireScopeOrRole: true})
	}
	return issuers, nil
}

// check validates a and returns its tenants (home first), audiences and
// hosts, normalized.
func (a API) check() (tenants, audiences []string, authority, v1Host string, err error) {
	var errs []error
	home, err := tenantID("TenantID", a.TenantID)
	if err != nil {
		errs = append(errs, err)
	}
	tenants = []string{home}
	for i, t := range a.AllowedTenants {
		name := fmt.Sprintf("AllowedTenants[%d]", i)
		id, err := tenantID(name, t)
		switch {
		case err != nil:
			errs = append(errs, err)
		case slices.Contains(tenants, id):
			errs = append(errs, fmt.Errorf("azure: %s (%q) is listed already (as TenantID or in AllowedTenants)", name, t))
		default:
			tenants = append(tenants, id)
		}
	}
	client, err := clientID(a.ClientID)
	if err != nil {
		errs = append(errs, err)
	}
	audiences = []string{client}
	if a.AppIDURI != "" {
		if err := checkAppIDURI(a.AppIDURI); err != nil {
			errs = append(errs, err)
		}
		audiences = append(audiences, a.AppIDURI)
	}
	if authority, err = host("AuthorityHost", a.AuthorityHost, DefaultAuthorityHost,
		"keys fetched in the clear could be replaced in transit"); err != nil {
		errs = append(errs, err)
	}
	if v1Host, err = host("V1IssuerHost", a.V1IssuerHost, DefaultV1IssuerHost,
		"Azure AD's issuers are https"); err != nil {
		errs = append(errs, err)
	}
	return tenants, audiences, authority, v1Host, errors.Join(errs...)
}

// tenantID returns a tenant ID in lower case, or why it is not one.
func tenantID(name, id string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(id)) {
	case "":
		return "", fmt.Errorf("azure: %s is empty: set it to the Directory (tenant) ID, a GUID", name)
	case "common", "organizations", "consumers":
		return "", fmt.Errorf("azure: %s is %q, which is an authority alias, not a tenant: a token's iss and tid always name "+
			"the tenant that issued it, so list each tenant whose tokens you accept, by its GUID (TenantID, AllowedTenants)", name, id)
	}
	if !isGUID(id) {
		return "", fmt.Errorf("azure: %s %q is not a GUID: tokens name their tenant by its Directory (tenant) ID "+
			"(8-4-4-4-12 hexadecimal digits), not by a domain name", name, id)
	}
	return strings.ToLower(id), nil
}

// clientID returns the API's client ID in lower case, or why it is not one.
func clientID(id string) (string, error) {
	switch {
	case id == "":
		return "", errors.New("azure: ClientID is empty: set it to the API's Application (client) ID, a GUID")
	case !isGUID(id):
		return "", fmt.Errorf("azure: ClientID %q is not a GUID: set it to the API's Application (client) ID "+
			"(the App ID URI, api://…, goes in AppIDURI)", id)
	}
	return strings.ToLower(id), nil
}

// checkAppIDURI refuses what cannot be an App ID URI, notably a scope.
func checkAppIDURI(uri string) error {
	u, err := url.Parse(uri)
	switch {
	case strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("azure: AppIDURI %q holds a space or a control character", uri)
	case err != nil || u.Scheme == "" || u.Opaque != "" || u.Host == "":
		return fmt.Errorf("azure: AppIDURI %q is not an Application ID URI: want api://… or https://… as in the app registration", uri)
	case strings.HasSuffix(uri, "/.default"):
		return fmt.Errorf("azure: AppIDURI %q is a scope: drop the /.default (v1.0 tokens carry the URI itself in aud)", uri)
	}
	return nil
}

// host returns the scheme://host of a host setting (def if unset), or why
// it is not one; why is what plain http would cost.
func host(name, raw, def, why string) (string, error) {
	if raw == "" {
		return def, nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("azure: %s %q is not an absolute URL such as %s", name, raw, def)
	case u.User != nil || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("azure: %s %q has more than a scheme and a host: want one such as %s (the tenant is added per issuer)", name, raw, def)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("azure: %s %q is not https (http is allowed only to a loopback address, for tests): %s", name, raw, why)
	}
	return u.Scheme + "://" + u.Host, nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isGUID reports whether s is a GUID in its usual form, 8-4-4-4-12
// hexadecimal digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
