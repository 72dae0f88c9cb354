package azure

import (
	"context"
	"errors"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
)

// DeviceCodePrompt tells the user where to sign in.
type DeviceCodePrompt struct {
	UserCode        string
	VerificationURL string
	// Message is Azure AD's ready-made instruction, e.g. "To sign in, use a
	// web browser to open … and enter the code …".
	Message string
	Expires time.Time
}

// DeviceCode returns the refresh engine in front of an MSAL public client,
// for command-line tools acting as a user. The first fetch runs the
// device-code flow: prompt shows the code and URL, and the fetch waits until
// the user has signed in elsewhere, unless MSAL's cache already holds an
// account and a token for it. Later fetches replace the engine's token
// ([tokensource.Replacing]): they are silent and redeem MSAL's refresh token for a new
// access token, bypassing MSAL's cached one (see [FromMSAL] for why); only if
// Azure AD refuses the refresh token is the user prompted again. A silent
// attempt that fails for a passing reason (the network, a timeout, 5xx, 429)
// prompts no one: the fetch fails Unavailable and the engine retries.
//
// The engine's fetch timeout defaults to 15 minutes here, the lifetime of a
// device code; tokensource.WithFetchTimeout in opts overrides it. The silent
// attempt has its own bound of 30 seconds within the fetch, so an identity
// provider that does not answer holds a refresh no longer than that. With
// [PersistentCache] in public.WithCache, the user signs in once across runs.
func DeviceCode(client public.Client, scopes []string, prompt func(context.Context, DeviceCodePrompt), opts ...tokensource.Option) *tokensource.Refresher {
	bound := silentTimeout
	src := tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		res, err := silent(ctx, client, scopes, bound)
		if err == nil {
			return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
		}
		if transient(err) { // signing in again would not help
			return nil, classifyMSAL(err)
		}
		dc, err := client.AcquireTokenByDeviceCode(ctx, scopes)
		if err != nil {
			return nil, classifyMSAL(err)
		}
		prompt(ctx, DeviceCodePrompt{UserCode: dc.Result.UserCode, VerificationURL: dc.Result.VerificationURL,
			Message: dc.Result.Message, Expires: dc.Result.ExpiresOn})
		res, err = dc.AuthenticationResult(ctx)
		if err != nil {
			return nil, classifyMSAL(err)
		}
		return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
	})
	return tokensource.Refreshing(src, append([]tokensource.Option{tokensource.WithFetchTimeout(15 * time.Minute)}, opts...)...)
}

// silentTimeout bounds the silent attempt of a fetch of DeviceCode and
// InteractiveBrowser, whose fetch timeouts are long enough for a person to
// sign in. Engines read it when they are built.
var silentTimeout = 30 * time.Second

var errNoAccount = errors.New("no cached account")

// silent acquires a token for the first cached account without the user,
// within bound: from MSAL's cache, or, when the fetch replaces the engine's
// token, by redeeming the refresh token.
func silent(ctx context.Context, client public.Client, scopes []string, bound time.Duration) (public.AuthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	accounts, err := client.Accounts(ctx)
	if err != nil || len(accounts) == 0 {
		return public.AuthResult{}, errNoAccount
	}
	opts := []public.AcquireSilentOption{public.WithSilentAccount(accounts[0])}
	if tokensource.Replacing(ctx) {
		opts = append(opts, public.WithClaims(refreshClaims(time.Now())))
	}
	return client.AcquireTokenSilent(ctx, scopes, opts...)
}
