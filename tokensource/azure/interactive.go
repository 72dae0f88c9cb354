package azure

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource"
)

// InteractiveBrowser returns the refresh engine in front of an MSAL public
// client, for tools a person runs on their own machine: the user signs in
// in the browser (the authorization-code flow with PKCE, redirected to a
// server MSAL runs on localhost). Each fetch first tries silently, for the
// user's account in MSAL's cache: the first fetch takes MSAL's cached
// token; a fetch that replaces the engine's token ([tokensource.Replacing])
// redeems MSAL's refresh token for a new one, bypassing its cached one (see
// [FromMSAL] for why). Only if that finds no account, or Azure AD refuses
// the refresh token, does it call AcquireTokenInteractive with login (for
// example public.WithLoginHint, public.WithRedirectURI, or public.WithOpenURL
// to show the URL rather than open the default browser). A silent attempt
// that fails for a passing reason (the network, a timeout, 5xx, 429) opens
// no browser: the fetch fails Unavailable and the engine retries.
//
// Which cached account is used: once the engine has signed a user in (or
// used a cached account), always that one, found by its home account ID.
// Before that, the account whose username the login hint in login names
// (public.WithLoginHint, compared without regard to case); without a hint,
// the only account in MSAL's cache. If no cached account fits, or several
// do (a cache shared with other tools, see [PersistentCache]), the engine
// does not guess but opens the browser, and keeps the account that signs
// in.
//
// The engine's fetch timeout defaults to 5 minutes here, time for a person
// to sign in; tokensource.WithFetchTimeout in opts overrides it. The silent
// attempt has its own bound of 30 seconds within the fetch, so an identity
// provider that does not answer holds a refresh no longer than that. With
// [PersistentCache] in public.WithCache, the user signs in once across runs.
func InteractiveBrowser(client public.Client, scopes []string, login []public.AcquireInteractiveOption, opts ...tokensource.Option) *tokensource.Refresher {
	u := newUserFlow(client, scopes, func(ctx context.Context) (public.AuthResult, error) {
		return client.AcquireTokenInteractive(ctx, scopes, login...)
	})
	u.loginHint = loginHint(client, scopes, login)
	return tokensource.Refreshing(tokensource.Func(u.fetch), append([]tokensource.Option{tokensource.WithFetchTimeout(5 * time.Minute)}, opts...)...)
}

// transient reports whether an MSAL error is a passing failure that signing
// in again would not cure: the network, a timeout or cancellation, or an
// HTTP 5xx or 429 answer.
func transient(err error) bool {
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		return ce.Resp.StatusCode >= http.StatusInternalServerError || ce.Resp.StatusCode == http.StatusTooManyRequests
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
