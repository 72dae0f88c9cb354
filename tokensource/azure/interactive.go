package azure

import (
	"context"
	"net/url"
	"reflect"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource"
)

// InteractiveBrowser gets tokens for a user of a tool they run on their own
// machine, through an MSAL public client: the user signs in in the browser
// (the authorization-code flow with PKCE, redirected to a server MSAL runs
// on localhost).
type InteractiveBrowser struct {
	// Client is the MSAL public client; with msalcache.Persistent in
	// public.WithCache, the user signs in once across runs.
	Client public.Client
	// Scopes to get tokens for, e.g. "api://my-api/.default"; required.
	Scopes []string
	// Options are passed to AcquireTokenInteractive, for example
	// public.WithLoginHint, public.WithRedirectURI, or public.WithOpenURL to
	// show the URL rather than open the default browser.
	Options []public.AcquireInteractiveOption
}

// TokenSource checks the configuration and returns the source. Each fetch
// first tries silently, for the user's account in MSAL's cache: a fetch
// that does not replace a token takes MSAL's cached token; a fetch that
// replaces the engine's token ([tokensource.Replacing]) redeems MSAL's
// refresh token for a new one, bypassing its cached one (see
// [Confidential.TokenSource] for why). Only if that finds no account, or
// Azure AD refuses the refresh token, does it call AcquireTokenInteractive
// with Options. A silent attempt that fails for a passing reason (the
// network, a timeout, 5xx, 429) opens no browser: the fetch fails
// Unavailable and the engine retries.
//
// Which cached account is used: once the source has signed a user in (or
// used a cached account), always that one, found by its home account ID.
// Before that, the account whose username the login hint in Options names
// (public.WithLoginHint, compared without regard to case); without a hint,
// the only account in MSAL's cache. If no cached account fits, or several
// do (a cache shared with other tools), the source does not guess but
// opens the browser, and keeps the account that signs in.
//
// The refresh engine in front of it (connection.WithTokenSource, or
// tokensource.Refreshing) gives each fetch 5 minutes, time for a person to
// sign in, unless tokensource.WithFetchTimeout says otherwise. The silent
// attempt has its own bound of 30 seconds within the fetch, so an identity
// provider that does not answer holds a refresh no longer than that.
func (b InteractiveBrowser) TokenSource() (tokensource.ContextTokenSource, error) {
	if len(b.Scopes) == 0 {
		return nil, invalid("InteractiveBrowser needs Scopes")
	}
	if reflect.ValueOf(b.Client).IsZero() {
		return nil, invalid("InteractiveBrowser needs a Client built with public.New")
	}
	client, scopes, login := b.Client, b.Scopes, b.Options
	u := newUserFlow(client, scopes, 5*time.Minute, func(ctx context.Context) (public.AuthResult, error) {
		return client.AcquireTokenInteractive(ctx, scopes, login...)
	})
	u.loginHint = loginHint(client, scopes, login)
	return u, nil
}

// loginHint returns the function that reads the login hint (such as
// public.WithLoginHint sets) among login, the options of
// AcquireTokenInteractive, or nil if none of them could set one. MSAL keeps
// an option's values to itself; its AuthCodeURL, given the options that
// also apply to it, renders the hint into the URL's login_hint. AuthCodeURL
// resolves the authority's endpoints (OIDC discovery), which MSAL caches and
// any token request needs; it sends no token request. The hint is read
// until a read succeeds, then kept.
func loginHint(client public.Client, scopes []string, login []public.AcquireInteractiveOption) func(context.Context) (string, error) {
	var urlOpts []public.AuthCodeURLOption
	for _, o := range login {
		if uo, ok := o.(public.AuthCodeURLOption); ok {
			urlOpts = append(urlOpts, uo)
		}
	}
	if len(urlOpts) == 0 {
		return nil
	}
	var (
		mu   sync.Mutex
		read bool
		hint string
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if read {
			return hint, nil
		}
		raw, err := client.AuthCodeURL(ctx, "grpccreds", "http://localhost", scopes, urlOpts...)
		if err != nil {
			return "", err
		}
		u, err := url.Parse(raw)
		if err != nil {
			return "", err
		}
		read, hint = true, u.Query().Get("login_hint")
		return hint, nil
	}
}
