package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/status"
)

// FromMSAL returns the refresh engine in front of an MSAL confidential client,
// for app-only tokens. Build the client with MSAL's own options.
//
// MSAL alone has no shared fetch (50 concurrent cold calls send 50 token
// requests), no background refresh, and never serves a token that lives 5
// minutes or less from its cache; the engine adds all three. Each fetch calls
// AcquireTokenByCredential. The first fetch consults MSAL's cache. A fetch
// that replaces the engine's token ([tokensource.Replacing]: a background
// refresh, a refresh after Invalidate, a fetch after expiry) bypasses it and
// asks Azure AD for a token not issued before now: MSAL would otherwise hand
// back the token the engine already holds until 5 minutes before it expires,
// and the revoked one after Invalidate. ExpiresOn becomes the token's expiry
// and RefreshOn (Azure AD's refresh_in) its refresh point.
//
// MSAL errors map to codes: invalid_client, unauthorized_client and other
// rejections to Unauthenticated; network failures, 5xx and 429 to
// Unavailable. No secret, assertion or response body reaches a message.
func FromMSAL(client confidential.Client, scopes []string, opts ...tokensource.Option) *tokensource.Refresher {
	return tokensource.Refreshing(confidentialSource(client, scopes), opts...)
}

// confidentialSource fetches app-only tokens from client, as FromMSAL
// describes.
func confidentialSource(client confidential.Client, scopes []string) tokensource.Func {
	return func(ctx context.Context) (*oauth2.Token, error) {
		var acquire []confidential.AcquireByCredentialOption
		if tokensource.Replacing(ctx) {
			acquire = append(acquire, confidential.WithClaims(refreshClaims(time.Now())))
		}
		res, err := client.AcquireTokenByCredential(ctx, scopes, acquire...)
		if err != nil {
			return nil, classifyMSAL(err)
		}
		return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
	}
}

// refreshClaims is the claims request that makes MSAL fetch a new token from
// the identity provider instead of returning its cached one. MSAL Go has no
// ForceRefresh; passing claims (WithClaims) is its documented way to skip
// cached access tokens, meant for claims challenges. The claims asked for are
// the ones Azure AD itself sends in a continuous access evaluation challenge
// to demand a token issued after a given time: an access token whose nbf is
// not before now. now is the real wall clock, which the identity provider
// compares it with.
func refreshClaims(now time.Time) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(now.Unix(), 10) + `"}}}`
}

// engineToken maps an access token and the wall-clock instants an identity
// provider (MSAL, a CLI) states for it onto a token. The instants are carried
// over as durations from now onto the clock of the engine fetching on ctx, so
// that clock (a fake one in tests) stays authoritative.
func engineToken(ctx context.Context, access string, expiresOn, refreshOn time.Time) *oauth2.Token {
	now, wall := tokensource.Now(ctx), time.Now()
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: now.Add(expiresOn.Sub(wall))}
	if !refreshOn.IsZero() {
		tok = tok.WithExtra(map[string]any{"refresh_in": refreshOn.Sub(wall).Seconds()})
	}
	return tok
}

// classifyMSAL turns an MSAL error into a tokensource.FetchError. An HTTP
// error is classified by its status and the OAuth2 error code in its body,
// as x/oauth2's are; a network failure, timeout or cancellation as it comes.
// MSAL's own messages are never used: they quote response bodies, which may
// hold tokens.
func classifyMSAL(err error) error {
	var ce msalerrors.CallErr
	var je msalerrors.InvalidJsonErr
	switch {
	case errors.As(err, &ce) && ce.Resp != nil:
		return tokensource.Classify(&oauth2.RetrieveError{Response: ce.Resp, ErrorCode: oauthErrorCode(ce.Resp)})
	case transport(err):
		return tokensource.Classify(err)
	case errors.As(err, &je):
		return tokensource.Unavailable("the token endpoint's answer is not a token response", nil)
	}
	return tokensource.Unavailable(fmt.Sprintf("MSAL could not get a token (%T)", err), nil)
}

// transport reports whether err is a network failure, a timeout, a
// cancellation or an error of our own (a status), whose messages
// tokensource.Classify builds or keeps without quoting a body.
func transport(err error) bool {
	var ne net.Error
	_, isStatus := status.FromError(err)
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) || isStatus
}

// oauthErrorCode reads the "error" field of an OAuth2 error body.
func oauthErrorCode(r *http.Response) string {
	if r.Body == nil {
		return ""
	}
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body)
	return body.Error
}
