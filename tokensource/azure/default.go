package azure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
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
	// HTTPClient, if set, makes the token requests of the environment and
	// workload identity credentials.
	HTTPClient *http.Client
	// ManagedIdentityHTTPClient, if set, replaces the managed identity's
	// client (see [ManagedIdentity]). It is separate so that a client meant
	// for Azure AD (a proxy, say) never sees managed-identity secrets.
	ManagedIdentityHTTPClient *http.Client
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

// link is one credential of the chain: its fetch, or why it cannot run.
type link struct {
	name  string
	fetch tokensource.Func
	// skip says why the link is not configured; broken, why a configured
	// link cannot run. Either way it has no fetch.
	skip, broken error
	// final reports whether a failure of the link ends the chain.
	final func(error) bool
}

func (d Default) links() []link {
	return []link{
		d.environment(),
		d.workload(),
		newLink(ManagedIdentityCredential, answered)(d.managed().source()),
		newLink(AzureCLICredential, never)(AzureCLI{Scope: d.Scope}.runner().source(d.Scope, "")),
		newLink(AzureDeveloperCLICredential, never)(DeveloperCLI{Scope: d.Scope}.runner().source(d.Scope, "")),
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

func newLink(name string, final func(error) bool) func(tokensource.Func, error) link {
	return func(f tokensource.Func, err error) link { return link{name: name, fetch: f, skip: err, final: final} }
}

// configured turns a link whose variables are set but unusable from skipped
// into broken: it then stops the chain rather than let another identity in.
func configured(l link, set bool) link {
	if set && l.skip != nil {
		l.skip, l.broken = nil, l.skip
	}
	return l
}

func (d Default) app() App {
	opts := d.MSAL
	if d.HTTPClient != nil {
		opts = append([]confidential.Option{confidential.WithHTTPClient(d.HTTPClient)}, opts...)
	}
	return App{Scopes: []string{d.Scope}, MSAL: opts}.fromEnvironment()
}

func (d Default) environment() link {
	secret, certPath := os.Getenv("AZURE_CLIENT_SECRET"), os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	return configured(newLink(EnvironmentCredential, always)(d.environmentSource(secret, certPath)), secret != "" || certPath != "")
}

func (d Default) environmentSource(secret, certPath string) (tokensource.Func, error) {
	a := d.app()
	switch {
	case a.TenantID == "" || a.ClientID == "" || secret == "" && certPath == "":
		return nil, errors.New("needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
	case secret != "":
		cred, err := secretCred(secret)
		if err != nil {
			return nil, err
		}
		return a.source(cred)
	}
	pem, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading AZURE_CLIENT_CERTIFICATE_PATH: %v", err)
	}
	cred, err := certCred(pem, os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
	if err != nil {
		return nil, err
	}
	return a.source(cred)
}

func (d Default) workload() link {
	l := newLink(WorkloadIdentityCredential, always)(d.app().workloadSource())
	return configured(l, os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "")
}

func (d Default) managed() ManagedIdentity {
	return ManagedIdentity{ClientID: cmp.Or(d.ManagedIdentityClientID, os.Getenv("AZURE_CLIENT_ID")), Scope: d.Scope,
		HTTPClient: d.ManagedIdentityHTTPClient}
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
	var r report
	for _, l := range c.links {
		if l.skip != nil {
			r.skip(l.name, l.skip)
			continue
		}
		if l.broken != nil {
			r.fail(l.name, tokensource.Rejected("configured but unusable: "+strings.TrimPrefix(l.broken.Error(), "grpccreds: azure: "), nil))
			return nil, r.stopped()
		}
		tok, err := l.fetch(ctx)
		if err == nil {
			c.mu.Lock()
			c.chosen = l.fetch
			c.mu.Unlock()
			return tok, nil
		}
		r.fail(l.name, err)
		if l.final(err) {
			return nil, r.stopped()
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, r.exhausted()
}

// report gathers what each link of the chain did.
type report struct {
	lines    []string
	failures []error
	rejected bool
}

// skip notes a link that is not configured.
func (r *report) skip(name string, why error) {
	r.lines = append(r.lines, name+": skipped: "+strings.TrimPrefix(why.Error(), "grpccreds: azure: "))
}

// fail notes a link that could not give a token.
func (r *report) fail(name string, err error) {
	r.lines = append(r.lines, name+": "+strings.TrimPrefix(err.Error(), "grpccreds: "))
	r.failures = append(r.failures, err)
	r.rejected = r.rejected || status.Code(err) == codes.Unauthenticated
}

// stopped is the error of a chain that its last link ended.
func (r *report) stopped() error {
	last := r.failures[len(r.failures)-1]
	code := codes.Unavailable
	if status.Code(last) == codes.Unauthenticated {
		code = codes.Unauthenticated
	}
	return &chainError{code: code, msg: "grpccreds: azure.Default stopped at " + strings.Join(r.lines, "; "), cause: last}
}

// exhausted is the error of a chain no link of which gave a token:
// Unauthenticated if a credential was rejected (the fix is to sign in or
// correct it), else Unavailable.
func (r *report) exhausted() error {
	code := codes.Unavailable
	if r.rejected {
		code = codes.Unauthenticated
	}
	return &chainError{code: code, msg: "grpccreds: azure.Default found no credential that works: " + strings.Join(r.lines, "; "),
		cause: errors.Join(r.failures...)}
}

// chainError is the chain's own message and code over the failures that led
// to it, through which the engine still finds a Retry-After.
type chainError struct {
	code  codes.Code
	msg   string
	cause error
}

func (e *chainError) Error() string              { return e.msg }
func (e *chainError) Unwrap() error              { return e.cause }
func (e *chainError) GRPCStatus() *status.Status { return status.New(e.code, e.msg) }
