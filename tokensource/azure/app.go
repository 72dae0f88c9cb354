package azure

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/tokensource"
)

// app is what the sources of an application registered in Azure AD share:
// the fields of [ClientSecret] that every one of them has.
type app struct {
	tenant, client, host string
	scopes               []string
	hc                   *http.Client
	msal                 []confidential.Option
}

// source builds the MSAL confidential client for cred and returns the
// source over it.
func (a app) source(cred confidential.Credential) (tokensource.ContextTokenSource, error) {
	switch {
	case a.tenant == "" || a.client == "":
		return nil, invalid("TenantID and ClientID are required")
	case len(a.scopes) == 0:
		return nil, invalid("Scopes are required, e.g. api://my-api/.default")
	}
	host := strings.TrimSuffix(cmp.Or(a.host, "https://login.microsoftonline.com"), "/")
	opts := a.msal
	if a.hc != nil {
		opts = append([]confidential.Option{confidential.WithHTTPClient(a.hc)}, opts...)
	}
	client, err := confidential.New(host+"/"+a.tenant, a.client, cred, opts...)
	if err != nil {
		return nil, invalid("building the MSAL client: %v", err)
	}
	return Confidential{Client: client, Scopes: a.scopes}.TokenSource()
}
