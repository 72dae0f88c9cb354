package azure

import (
	"context"
	"reflect"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
)

// Confidential gets app-only tokens from an MSAL confidential client built
// with MSAL's own options, for what the sources with fields
// ([ClientSecret], [ClientCertificate], [ClientAssertion],
// [WorkloadIdentity]) do not cover.
type Confidential struct {
	// Client is the MSAL confidential client.
	Client confidential.Client
	// Scopes to get tokens for, e.g. "api://my-api/.default".
	Scopes []string
}

// TokenSource checks the scopes and returns the source. Each fetch calls
// AcquireTokenByCredential.
//
// MSAL alone has no shared fetch (50 concurrent cold calls send 50 token
// requests), no background refresh, and never serves a token that lives 5
// minutes or less from its cache; put the refresh engine in front
// (connection.WithTokenSource, or tokensource.Refreshing) to add all three.
// A fetch that does not replace a token consults MSAL's cache. A fetch that
// replaces the engine's token ([tokensource.Replacing]: a background
// refresh, a refresh after a server rejected the token, a fetch after
// expiry) bypasses it and asks Azure AD for a token not issued before now:
// MSAL would otherwise hand back the token the engine already holds until 5
// minutes before it expires, and the revoked one after a rejection.
// ExpiresOn becomes the token's expiry and RefreshOn (Azure AD's
// refresh_in) its refresh point.
//
// MSAL errors map to codes: invalid_client, unauthorized_client and other
// rejections to Unauthenticated; network failures, 5xx and 429 to
// Unavailable. No secret, assertion or response body reaches a message.
func (c Confidential) TokenSource() (tokensource.ContextTokenSource, error) {
	if len(c.Scopes) == 0 {
		return nil, invalid("Confidential needs Scopes")
	}
	if reflect.ValueOf(c.Client).IsZero() {
		return nil, invalid("Confidential needs a Client built with confidential.New")
	}
	return &confidentialSource{client: c.Client, scopes: c.Scopes}, nil
}

// confidentialSource fetches app-only tokens from an MSAL confidential
// client, as [Confidential.TokenSource] describes.
type confidentialSource struct {
	client confidential.Client
	scopes []string
}

func (s *confidentialSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

func (s *confidentialSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	var acquire []confidential.AcquireByCredentialOption
	if engine.Replacing(ctx) {
		acquire = append(acquire, confidential.WithClaims(refreshClaims(time.Now())))
	}
	res, err := s.client.AcquireTokenByCredential(ctx, s.scopes, acquire...)
	if err != nil {
		return nil, classifyMSAL(err)
	}
	return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
}
