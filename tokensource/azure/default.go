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
// narrows the chain: "dev" keeps the two CLIs, "prod" the first three, and
// one credential's name keeps that one alone.
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
// every later fetch goes to that one alone. A credential that is not
// configured is skipped. A managed identity that cannot be reached, or a
// CLI that is not installed or not signed in, lets the chain go on. An
// application credential configured in the environment
// (EnvironmentCredential, WorkloadIdentityCredential) that fails stops it,
// with that failure's code (Unauthenticated for a wrong secret, Unavailable
// if Azure AD cannot be reached): a different identity must not stand in
// for the one configured. When no credential gives a token, the error names
// each one and why it was skipped or failed. It holds no secret.
func (d Default) TokenSource() (tokensource.ContextTokenSource, error) {
	if d.Scope == "" {
		return nil, invalid("Default needs a Scope")
	}
	keep, err := chosenNames(os.Getenv("AZURE_TOKEN_CREDENTIALS"))
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

// chosenNames reads AZURE_TOKEN_CREDENTIALS.
func chosenNames(v string) (map[string]bool, error) {
	all := []string{EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential, AzureCLICredential, AzureDeveloperCLICredential}
	switch v = strings.TrimSpace(v); strings.ToLower(v) {
	case "":
		return set(all...), nil
	case "dev":
		return set(AzureCLICredential, AzureDeveloperCLICredential), nil
	case "prod":
		return set(EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential), nil
	}
	for _, name := range all {
		if strings.EqualFold(v, name) {
			return set(name), nil
		}
	}
	return nil, invalid("AZURE_TOKEN_CREDENTIALS=%q: want dev, prod or one of %s", v, strings.Join(all, ", "))
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// link is one credential of the chain: its source, or why it cannot run.
type link struct {
	name string
	src  tokensource.ContextTokenSource
	// skip says why the link is not configured; broken, why a configured
	// link cannot run. Either way it has no source.
	skip, broken error
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
		newLink(ManagedIdentityCredential, answered, mi, miErr),
		newLink(AzureCLICredential, never, az, azErr),
		newLink(AzureDeveloperCLICredential, never, azd, azdErr),
	}
}

func always(error) bool { return true }
func never(error) bool  { return false }

// answered reports whether a managed-identity endpoint answered at all: if it
// did (even with an error), this host has managed identity and the chain
// stops there; if it could not be reached, the chain goes on.
func answered(err error) bool {
	var ne net.Error
	return !errors.As(err, &ne)
}

func newLink(name string, final func(error) bool, src tokensource.ContextTokenSource, err error) link {
	return link{name: name, src: src, skip: err, final: final}
}

// configured turns a link whose variables are set but unusable from skipped
// into broken: it then stops the chain rather than let another identity in.
func configured(l link, set bool) link {
	if set && l.skip != nil {
		l.skip, l.broken = nil, l.skip
	}
	return l
}

// app is the application the environment configures, for the first two
// credentials.
func (d Default) app() app {
	return app{tenant: os.Getenv("AZURE_TENANT_ID"), client: os.Getenv("AZURE_CLIENT_ID"),
		host: os.Getenv("AZURE_AUTHORITY_HOST"), scopes: []string{d.Scope}, hc: d.HTTPClient, msal: d.MSAL}
}

func (d Default) environment() link {
	secret, certPath := os.Getenv("AZURE_CLIENT_SECRET"), os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	src, err := d.environmentSource(secret, certPath)
	return configured(newLink(EnvironmentCredential, always, src, err), secret != "" || certPath != "")
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

func (d Default) workload() link {
	a := d.app()
	src, err := WorkloadIdentity{Scopes: a.scopes, HTTPClient: a.hc, MSAL: a.msal}.TokenSource()
	return configured(newLink(WorkloadIdentityCredential, always, src, err), os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "")
}

func (d Default) managed() ManagedIdentity {
	return ManagedIdentity{ClientID: cmp.Or(d.ManagedIdentityClientID, os.Getenv("AZURE_CLIENT_ID")), Scope: d.Scope,
		HTTPClient: d.ManagedIdentityHTTPClient}
}
