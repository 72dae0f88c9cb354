package azure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
)

// App describes an application registered in Azure AD (Entra ID), for the
// constructors below. Each builds an MSAL confidential client and hands it to
// [FromMSAL].
type App struct {
	TenantID string
	ClientID string
	// Scopes, e.g. "api://my-api/.default".
	Scopes []string
	// AuthorityHost defaults to https://login.microsoftonline.com.
	AuthorityHost string
	// MSAL holds MSAL's own client options, e.g. confidential.WithHTTPClient
	// or confidential.WithInstanceDiscovery(false) for a private authority.
	MSAL []confidential.Option
	// Refresh configures the refresh engine.
	Refresh []tokensource.Option
}

// ClientSecret authenticates with a client secret.
func (a App) ClientSecret(secret string) (*tokensource.Refresher, error) {
	cred, err := secretCred(secret)
	if err != nil {
		return nil, err
	}
	return a.with(cred)
}

func secretCred(secret string) (confidential.Credential, error) {
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		return confidential.Credential{}, errors.New("grpccreds: azure: the client secret is empty")
	}
	return cred, nil
}

// ClientCertificate authenticates with a certificate and its RSA private key,
// both PEM-encoded in pemData (password for an encrypted key, else "").
func (a App) ClientCertificate(pemData []byte, password string) (*tokensource.Refresher, error) {
	cred, err := certCred(pemData, password)
	if err != nil {
		return nil, err
	}
	return a.with(cred)
}

func certCred(pemData []byte, password string) (confidential.Credential, error) {
	certs, key, err := confidential.CertFromPEM(pemData, password)
	if err == nil {
		var cred confidential.Credential
		if cred, err = confidential.NewCredFromCert(certs, key); err == nil {
			return cred, nil
		}
	}
	return confidential.Credential{}, fmt.Errorf("grpccreds: azure: client certificate: %v", err)
}

// ClientAssertion authenticates with a signed assertion that fn returns for
// each token request (for example a federated token).
func (a App) ClientAssertion(fn func(ctx context.Context) (string, error)) (*tokensource.Refresher, error) {
	return a.with(assertionFrom(fn))
}

func assertionFrom(fn func(ctx context.Context) (string, error)) confidential.Credential {
	return confidential.NewCredFromAssertionCallback(func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
		return fn(ctx)
	})
}

// WorkloadIdentity authenticates as Azure workload identity does on
// Kubernetes: the tenant, client and federated token file come from
// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (and the
// host from AZURE_AUTHORITY_HOST if set); the file is re-read for every token
// request, since the kubelet rotates it. Fields already set in a win.
func (a App) WorkloadIdentity() (*tokensource.Refresher, error) {
	return refreshing(a.Refresh)(a.workloadSource())
}

func (a App) workloadSource() (tokensource.Func, error) {
	a = a.fromEnvironment()
	file := os.Getenv("AZURE_FEDERATED_TOKEN_FILE")
	if a.TenantID == "" || a.ClientID == "" || file == "" {
		return nil, errors.New("grpccreds: azure: workload identity needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE")
	}
	return a.source(assertionFrom(func(context.Context) (string, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", tokensource.Unavailable("reading the federated token file: "+err.Error(), nil)
		}
		return strings.TrimSpace(string(b)), nil
	}))
}

// fromEnvironment fills the fields a leaves empty from AZURE_TENANT_ID,
// AZURE_CLIENT_ID and AZURE_AUTHORITY_HOST.
func (a App) fromEnvironment() App {
	a.TenantID = cmp.Or(a.TenantID, os.Getenv("AZURE_TENANT_ID"))
	a.ClientID = cmp.Or(a.ClientID, os.Getenv("AZURE_CLIENT_ID"))
	a.AuthorityHost = cmp.Or(a.AuthorityHost, os.Getenv("AZURE_AUTHORITY_HOST"))
	return a
}

func (a App) with(cred confidential.Credential) (*tokensource.Refresher, error) {
	return refreshing(a.Refresh)(a.source(cred))
}

// refreshing puts the engine, configured by opts, in front of a source that
// was built without error.
func refreshing(opts []tokensource.Option) func(tokensource.Func, error) (*tokensource.Refresher, error) {
	return func(src tokensource.Func, err error) (*tokensource.Refresher, error) {
		if err != nil {
			return nil, err
		}
		return tokensource.Refreshing(src, opts...), nil
	}
}

// source builds the MSAL confidential client for cred.
func (a App) source(cred confidential.Credential) (tokensource.Func, error) {
	if a.TenantID == "" || a.ClientID == "" {
		return nil, errors.New("grpccreds: azure: TenantID and ClientID are required")
	}
	host := strings.TrimSuffix(cmp.Or(a.AuthorityHost, "https://login.microsoftonline.com"), "/")
	client, err := confidential.New(host+"/"+a.TenantID, a.ClientID, cred, a.MSAL...)
	if err != nil {
		return nil, fmt.Errorf("grpccreds: azure: %v", err)
	}
	return confidentialSource(client, a.Scopes), nil
}
