package azure

import (
	"cmp"
	"context"
	"net/http"
	"os"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
)

// WorkloadIdentity gets app-only tokens as Azure workload identity does on
// Kubernetes: the application authenticates with a federated token that
// the kubelet writes to a file and rotates. Fields left empty come from the
// environment the Azure webhook injects: TenantID from AZURE_TENANT_ID,
// ClientID from AZURE_CLIENT_ID, TokenFilePath from
// AZURE_FEDERATED_TOKEN_FILE and AuthorityHost from AZURE_AUTHORITY_HOST.
// Scopes, HTTPClient and MSAL mean what [ClientSecret]'s do.
type WorkloadIdentity struct {
	TenantID, ClientID string
	Scopes             []string
	// TokenFilePath is the federated token file, re-read for every token
	// request.
	TokenFilePath string
	AuthorityHost string
	HTTPClient    *http.Client
	MSAL          []confidential.Option
}

// TokenSource fills the fields from the environment, checks them and
// returns the source, which fetches as [Confidential.TokenSource]
// describes.
func (w WorkloadIdentity) TokenSource() (tokensource.ContextTokenSource, error) {
	w = w.fromEnvironment()
	if w.TenantID == "" || w.ClientID == "" || w.TokenFilePath == "" {
		return nil, invalid("workload identity needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE")
	}
	file := w.TokenFilePath
	return app{w.TenantID, w.ClientID, w.AuthorityHost, w.Scopes, w.HTTPClient, w.MSAL}.source(assertionFrom(func(context.Context) (string, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", unavailable("reading the federated token file: "+err.Error(), nil)
		}
		return strings.TrimSpace(string(b)), nil
	}))
}

// fromEnvironment fills the fields w leaves empty from the environment.
func (w WorkloadIdentity) fromEnvironment() WorkloadIdentity {
	w.TenantID = cmp.Or(w.TenantID, os.Getenv("AZURE_TENANT_ID"))
	w.ClientID = cmp.Or(w.ClientID, os.Getenv("AZURE_CLIENT_ID"))
	w.TokenFilePath = cmp.Or(w.TokenFilePath, os.Getenv("AZURE_FEDERATED_TOKEN_FILE"))
	w.AuthorityHost = cmp.Or(w.AuthorityHost, os.Getenv("AZURE_AUTHORITY_HOST"))
	return w
}
