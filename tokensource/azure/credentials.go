package azure

import (
	"context"
	"net/http"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
)

// ClientSecret gets app-only tokens for an application registered in Azure
// AD (Entra ID) that authenticates with a client secret.
type ClientSecret struct {
	// TenantID and ClientID name the tenant and the application; both are
	// required.
	TenantID, ClientID string
	// Scopes to get tokens for, e.g. "api://my-api/.default"; required.
	Scopes []string
	// Secret is the client secret; required.
	Secret string
	// AuthorityHost defaults to https://login.microsoftonline.com.
	AuthorityHost string
	// HTTPClient, if set, sends the token requests.
	HTTPClient *http.Client
	// MSAL holds more of MSAL's client options, e.g.
	// confidential.WithInstanceDiscovery(false) for a private authority.
	MSAL []confidential.Option
}

// TokenSource checks the configuration and returns the source, which
// fetches as [Confidential.TokenSource] describes.
func (c ClientSecret) TokenSource() (tokensource.ContextTokenSource, error) {
	cred, err := secretCred(c.Secret)
	if err != nil {
		return nil, err
	}
	return app{c.TenantID, c.ClientID, c.AuthorityHost, c.Scopes, c.HTTPClient, c.MSAL}.source(cred)
}

func secretCred(secret string) (confidential.Credential, error) {
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		return confidential.Credential{}, invalid("the client secret is empty")
	}
	return cred, nil
}

// ClientCertificate gets app-only tokens for an application that
// authenticates with a certificate. TenantID, ClientID, Scopes,
// AuthorityHost, HTTPClient and MSAL mean what [ClientSecret]'s do.
type ClientCertificate struct {
	TenantID, ClientID string
	Scopes             []string
	// CertificatePEM holds the certificate and its RSA private key,
	// PEM-encoded; required.
	CertificatePEM []byte
	// Password decrypts an encrypted key; "" for none.
	Password      string
	AuthorityHost string
	HTTPClient    *http.Client
	MSAL          []confidential.Option
}

// TokenSource checks the configuration and the certificate and returns the
// source, which fetches as [Confidential.TokenSource] describes.
func (c ClientCertificate) TokenSource() (tokensource.ContextTokenSource, error) {
	cred, err := certCred(c.CertificatePEM, c.Password)
	if err != nil {
		return nil, err
	}
	return app{c.TenantID, c.ClientID, c.AuthorityHost, c.Scopes, c.HTTPClient, c.MSAL}.source(cred)
}

func certCred(pemData []byte, password string) (confidential.Credential, error) {
	certs, key, err := confidential.CertFromPEM(pemData, password)
	if err == nil {
		var cred confidential.Credential
		if cred, err = confidential.NewCredFromCert(certs, key); err == nil {
			return cred, nil
		}
	}
	return confidential.Credential{}, invalid("client certificate: %v", err)
}

// ClientAssertion gets app-only tokens for an application that
// authenticates with a signed assertion from elsewhere, for example a
// federated token. TenantID, ClientID, Scopes, AuthorityHost, HTTPClient and
// MSAL mean what [ClientSecret]'s do.
type ClientAssertion struct {
	TenantID, ClientID string
	Scopes             []string
	// Assertion returns the assertion for each token request; required. Its
	// errors must hold no secret.
	Assertion     func(ctx context.Context) (string, error)
	AuthorityHost string
	HTTPClient    *http.Client
	MSAL          []confidential.Option
}

// TokenSource checks the configuration and returns the source, which
// fetches as [Confidential.TokenSource] describes.
func (c ClientAssertion) TokenSource() (tokensource.ContextTokenSource, error) {
	if c.Assertion == nil {
		return nil, invalid("ClientAssertion needs an Assertion function")
	}
	return app{c.TenantID, c.ClientID, c.AuthorityHost, c.Scopes, c.HTTPClient, c.MSAL}.source(assertionFrom(c.Assertion))
}

func assertionFrom(fn func(ctx context.Context) (string, error)) confidential.Credential {
	return confidential.NewCredFromAssertionCallback(func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
		return fn(ctx)
	})
}
