package azure

import (
	"cmp"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
)

// The credentials of the default chain, by the names AZURE_TOKEN_CREDENTIALS
// takes (as azidentity's DefaultAzureCredential does).
const (
	EnvironmentCredential       = "EnvironmentCredential"
	WorkloadIdentityCredential  = "WorkloadIdentityCredential"
	ManagedIdentityCredential   = "ManagedIdentityCredential"
	AzureCLICredential          = "AzureCLICredential"
	AzureDeveloperCLICredential = "AzureDeveloperCLICredential"
)

// Default describes a chain of credentials for programs that run both on a
// developer's laptop and on Azure, like azidentity's DefaultAzureCredential.
// Its TokenSource tries, in order:
//   - EnvironmentCredential: AZURE_TENANT_ID and AZURE_CLIENT_ID with
//     AZURE_CLIENT_SECRET, or with AZURE_CLIENT_CERTIFICATE_PATH (a PEM file
//     holding the certificate and its key; AZURE_CLIENT_CERTIFICATE_PASSWORD
//     if the key is encrypted);
//   - WorkloadIdentityCredential: AZURE_FEDERATED_TOKEN_FILE with the tenant
//     and client above;
//   - ManagedIdentityCredential: the host's managed identity (user-assigned
//     if ManagedIdentityClientID or AZURE_CLIENT_ID is set);
//   - AzureCLICredential: `az login`;
//   - AzureDeveloperCLICredential: `azd auth login`.
//
// AZURE_AUTHORITY_HOST changes the authority host. AZURE_TOKEN_CREDENTIALS
// narrows the chain as azidentity reads it: "dev" (exactly so) keeps the two
// CLIs, "prod" the first three, and one credential's name (in any case)
// keeps that one alone; any other value, an empty one included, is refused.
// Unlike azidentity's, the chain has no Azure PowerShell credential (so
// "dev" is the two CLIs, and "AzurePowerShellCredential" is refused), and
// its environment credential takes no username and password.
type Default struct {
	// Scope is the one scope to get tokens for, e.g.
	// "api://energy-trading/.default".
	Scope string
	// ManagedIdentityClientID selects a user-assigned managed identity
	// (default: AZURE_CLIENT_ID).
	ManagedIdentityClientID string
	// HTTPClient, if set, makes the token requests of the environment and
	// workload identity credentials.
	HTTPClient *http.Client
	// ManagedIdentityHTTPClient, if set, replaces the managed identity's
	// client (see [ManagedIdentity]). It is separate so that a client meant
	// for Azure AD (a proxy, say) never sees managed-identity secrets.
	ManagedIdentityHTTPClient *http.Client
	// MSAL holds extra MSAL client options for the first two credentials.
	MSAL []confidential.Option
}

// TokenSource checks the scope and AZURE_TOKEN_CREDENTIALS and returns the
// chain as one source; put the refresh engine in front of it
// (connection.WithTokenSource, or tokensource.Refreshing). The first fetch
// tries each credential in order and keeps the first that returns a token;
// every later fetch goes to that one alone. As in azidentity, a credential
// the environment does not configure completely (a secret without
// AZURE_TENANT_ID, say) or that cannot be built from it (an unreadable
// certificate) is skipped, and so is a managed identity that is not there
// (nothing listens; IMDS is silent for the 1 s the chain gives its first
// answer; something else answers in its place, as Docker Desktop's 403 or
// a proxy's page; IMDS says the host has no identity) or a CLI that is not
// installed or not signed in. An application
// credential built from the environment (EnvironmentCredential,
// WorkloadIdentityCredential) that fails to get a token stops the chain,
// with that failure's code (Unauthenticated for a wrong secret, Unavailable
// if Azure AD cannot be reached): a different identity must not stand in
// for the one configured. The error then names the credential that stopped
// the chain first, and the ones before it after; when no credential gives a
// token, it names each one and why it was skipped or failed. It holds no
// secret.
func (d Default) TokenSource() (tokensource.ContextTokenSource, error) {
	if d.Scope == "" {
		return nil, invalid("Default needs a Scope")
	}
	keep, err := chosenNames(os.LookupEnv("AZURE_TOKEN_CREDENTIALS"))
	if err != nil {
		return nil, err
	}
	c := &chain{}
	for _, l := range d.links() {
		if keep[l.name] {
			c.links = append(c.links, l)
		}
	}
	return c, nil
}

// everyCredential is the chain's credentials in order.
var everyCredential = []string{EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential,
	AzureCLICredential, AzureDeveloperCLICredential}

// chosenNames reads AZURE_TOKEN_CREDENTIALS as azidentity v1.15.0 does:
// unset, the whole chain; "dev" or "prod" exactly as written; or one
// credential's name in any case, with no space around it. Anything else,
// an empty value included, is refused.
func chosenNames(v string, isSet bool) (map[string]bool, error) {
	switch {
	case !isSet:
		return set(everyCredential...), nil
	case v == "dev":
		return set(AzureCLICredential, AzureDeveloperCLICredential), nil
	case v == "prod":
		return set(EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential), nil
	case strings.EqualFold(v, "AzurePowerShellCredential"):
		return nil, badChoice(v, "this chain has no Azure PowerShell credential; ")
	}
	for _, name := range everyCredential {
		if strings.EqualFold(v, name) {
			return set(name), nil
		}
	}
	return nil, badChoice(v, "")
}

// badChoice refuses an AZURE_TOKEN_CREDENTIALS value, listing the valid ones.
func badChoice(v, why string) error {
	return invalid(`AZURE_TOKEN_CREDENTIALS=%q: %swant "dev" or "prod" (in lower case) or one credential's name (in any case): %s; unset it for the whole chain`,
		v, why, strings.Join(everyCredential, ", "))
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// link is one credential of the chain: its source, or why it is skipped.
type link struct {
	name string
	src  tokensource.ContextTokenSource
	// skip says why the link has no source: the environment does not
	// configure it, or it cannot be built from it.
	skip error
	// final reports whether a failure of the link ends the chain.
	final func(error) bool
}

func (d Default) links() []link {
	mi, miErr := d.managed().TokenSource()
	az, azErr := AzureCLI{Scope: d.Scope}.TokenSource()
	azd, azdErr := DeveloperCLI{Scope: d.Scope}.TokenSource()
	return []link{
		d.environment(),
		d.workload(),
		managedLink(mi, miErr),
		newLink(AzureCLICredential, never, az, azErr),
		newLink(AzureDeveloperCLICredential, never, azd, azdErr),
	}
}

func always(error) bool { return true }
func never(error) bool  { return false }

// answered reports whether a managed-identity endpoint answered as one: if
// it did (even with an error), this host has managed identity and the chain
// stops there. The chain goes on if no endpoint could be reached or IMDS's
// probe timed out (see inChain), and, as in azidentity v1.15.0, if what
// answered at IMDS's address says there is no managed identity here (see
// notAvailable): Docker Desktop's 403, a proxy's page, IMDS's 400 for a
// system-assigned identity.
func answered(err error) bool {
	var ne net.Error
	return !errors.As(err, &ne) && !notAvailable(err)
}

func newLink(name string, final func(error) bool, src tokensource.ContextTokenSource, err error) link {
	return link{name: name, src: src, skip: err, final: final}
}

// app is the application the environment configures, for the first two
// credentials.
func (d Default) app() app {
	return app{tenant: os.Getenv("AZURE_TENANT_ID"), client: os.Getenv("AZURE_CLIENT_ID"),
		host: os.Getenv("AZURE_AUTHORITY_HOST"), scopes: []string{d.Scope}, hc: d.HTTPClient, msal: d.MSAL}
}

// environment is EnvironmentCredential. As in azidentity, a configuration
// it cannot build a source from skips it, however much of it is set.
func (d Default) environment() link {
	src, err := d.environmentSource(os.Getenv("AZURE_CLIENT_SECRET"), os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH"))
	return newLink(EnvironmentCredential, always, src, err)
}

func (d Default) environmentSource(secret, certPath string) (tokensource.ContextTokenSource, error) {
	a := d.app()
	switch {
	case a.tenant == "" || a.client == "" || secret == "" && certPath == "":
		return nil, invalid("needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
	case secret != "":
		cred, err := secretCred(secret)
		if err != nil {
			return nil, err
		}
		return a.source(cred)
	}
	pem, err := os.ReadFile(certPath)
	if err != nil {
		return nil, invalid("reading AZURE_CLIENT_CERTIFICATE_PATH: %v", err)
	}
	cred, err := certCred(pem, os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
	if err != nil {
		return nil, err
	}
	return a.source(cred)
}

// workload is WorkloadIdentityCredential, skipped (as in azidentity) unless
// the tenant, client and token file are all set.
func (d Default) workload() link {
	a := d.app()
	src, err := WorkloadIdentity{Scopes: a.scopes, HTTPClient: a.hc, MSAL: a.msal}.TokenSource()
	return newLink(WorkloadIdentityCredential, always, src, err)
}

func (d Default) managed() ManagedIdentity {
	return ManagedIdentity{ClientID: cmp.Or(d.ManagedIdentityClientID, os.Getenv("AZURE_CLIENT_ID")), Scope: d.Scope,
		HTTPClient: d.ManagedIdentityHTTPClient}
}
