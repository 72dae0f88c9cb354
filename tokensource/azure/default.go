package azure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	// HTTPClient, if set, makes the token requests of the first three
	// credentials.
	HTTPClient *http.Client
	// MSAL holds extra MSAL client options for the first two credentials.
	MSAL []confidential.Option
	// Refresh configures the refresh engine.
	Refresh []tokensource.Option
}

// TokenSource returns the refresh engine in front of the chain. The engine's
// first fetch tries each credential in order and keeps the first that
// returns a token; every later fetch goes to that one alone. A credential
// that is not configured is skipped. A managed identity that cannot be
// reached, or a CLI that is not installed or not signed in, lets the chain
// go on. An application credential configured in the environment
// (EnvironmentCredential, WorkloadIdentityCredential) that fails stops it,
// with that failure's code (Unauthenticated for a wrong secret, Unavailable
// if Azure AD cannot be reached): a different identity must not stand in for
// the one configured. When no credential gives a token, the error names each
// one and why it was skipped or failed. It holds no secret.
func (d Default) TokenSource() (*tokensource.Refresher, error) {
	if d.Scope == "" {
		return nil, errors.New("grpccreds: azure: Default needs a Scope")
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
	return tokensource.Refreshing(tokensource.Func(c.fetch), d.Refresh...), nil
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
	return nil, fmt.Errorf("grpccreds: azure: AZURE_TOKEN_CREDENTIALS=%q: want dev, prod or one of %s", v, strings.Join(all, ", "))
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// link is one credential of the chain: its fetch, or why it was skipped.
type link struct {
	name  string
	fetch tokensource.Func
	skip  error
	// final: a failure ends the chain.
	final bool
}

func (d Default) links() []link {
	return []link{
		d.environment(),
		newLink(WorkloadIdentityCredential, true)(d.app().workloadSource()),
		newLink(ManagedIdentityCredential, false)(d.managed().source()),
		newLink(AzureCLICredential, false)(AzureCLI{Scope: d.Scope}.runner().source(d.Scope, "")),
		newLink(AzureDeveloperCLICredential, false)(DeveloperCLI{Scope: d.Scope}.runner().source(d.Scope, "")),
	}
}

func newLink(name string, final bool) func(tokensource.Func, error) link {
	return func(f tokensource.Func, err error) link { return link{name: name, fetch: f, skip: err, final: final} }
}

func (d Default) app() App {
	mi := d.MSAL
	if d.HTTPClient != nil {
		mi = append([]confidential.Option{confidential.WithHTTPClient(d.HTTPClient)}, mi...)
	}
	return App{Scopes: []string{d.Scope}, MSAL: mi}.fromEnvironment()
}

func (d Default) environment() link {
	a, l := d.app(), newLink(EnvironmentCredential, true)
	secret, certPath := os.Getenv("AZURE_CLIENT_SECRET"), os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	switch {
	case a.TenantID == "" || a.ClientID == "" || secret == "" && certPath == "":
		return l(nil, fmt.Errorf("needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"))
	case secret != "":
		cred, err := secretCred(secret)
		if err != nil {
			return l(nil, err)
		}
		return l(a.source(cred))
	}
	pem, err := os.ReadFile(certPath)
	if err != nil {
		return l(nil, fmt.Errorf("reading AZURE_CLIENT_CERTIFICATE_PATH: %v", err))
	}
	cred, err := certCred(pem, os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
	if err != nil {
		return l(nil, err)
	}
	return l(a.source(cred))
}

func (d Default) managed() ManagedIdentity {
	return ManagedIdentity{ClientID: cmp.Or(d.ManagedIdentityClientID, os.Getenv("AZURE_CLIENT_ID")), Scope: d.Scope, HTTPClient: d.HTTPClient}
}

// chain fetches from the first link that works, then from that link alone.
// The engine runs one fetch at a time; the mutex only publishes the choice.
type chain struct {
	links  []link
	mu     sync.Mutex
	chosen tokensource.Func
}

func (c *chain) fetch(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	chosen := c.chosen
	c.mu.Unlock()
	if chosen != nil {
		return chosen(ctx)
	}
	var report []string
	for _, l := range c.links {
		if l.skip != nil {
			report = append(report, l.name+": skipped: "+strings.TrimPrefix(l.skip.Error(), "grpccreds: azure: "))
			continue
		}
		tok, err := l.fetch(ctx)
		if err == nil {
			c.mu.Lock()
			c.chosen = l.fetch
			c.mu.Unlock()
			return tok, nil
		}
		report = append(report, l.name+": "+strings.TrimPrefix(err.Error(), "grpccreds: "))
		if l.final {
			return nil, status.Error(stopCode(err), "grpccreds: azure.Default stopped at "+strings.Join(report, "; "))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(report) == 0 {
		report = append(report, "AZURE_TOKEN_CREDENTIALS left no credential")
	}
	return nil, status.Error(codes.Unavailable, "grpccreds: azure.Default found no credential that works: "+strings.Join(report, "; "))
}

// stopCode is the code of the failure that stopped the chain: Unauthenticated
// for a rejection, Unavailable for anything else.
func stopCode(err error) codes.Code {
	if status.Code(err) == codes.Unauthenticated {
		return codes.Unauthenticated
	}
	return codes.Unavailable
}
