package azure

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
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
// the user has signed in elsewhere, unless MSAL's cache already holds the
// user's account and a token for it. Later fetches replace the engine's
// token ([tokensource.Replacing]): they are silent and redeem MSAL's refresh
// token for a new access token, bypassing MSAL's cached one (see [FromMSAL]
// for why); only if Azure AD refuses the refresh token is the user prompted
// again. A silent attempt that fails for a passing reason (the network, a
// timeout, 5xx, 429) prompts no one: the fetch fails Unavailable and the
// engine retries.
//
// Which cached account is used: once the engine has signed a user in (or
// used a cached account), always that one, found by its home account ID.
// Before that, the only account in MSAL's cache; if the cache holds several
// (a cache shared with other tools, see [PersistentCache]), the engine does
// not guess but asks for a device code, and keeps the account that signs
// in.
//
// The engine's fetch timeout defaults to 15 minutes here, the lifetime of a
// device code; tokensource.WithFetchTimeout in opts overrides it. The silent
// attempt has its own bound of 30 seconds within the fetch, so an identity
// provider that does not answer holds a refresh no longer than that. With
// [PersistentCache] in public.WithCache, the user signs in once across runs.
func DeviceCode(client public.Client, scopes []string, prompt func(context.Context, DeviceCodePrompt), opts ...tokensource.Option) *tokensource.Refresher {
	u := newUserFlow(client, scopes, func(ctx context.Context) (public.AuthResult, error) {
		dc, err := client.AcquireTokenByDeviceCode(ctx, scopes)
		if err != nil {
			return public.AuthResult{}, err
		}
		prompt(ctx, DeviceCodePrompt{UserCode: dc.Result.UserCode, VerificationURL: dc.Result.VerificationURL,
			Message: dc.Result.Message, Expires: dc.Result.ExpiresOn})
		return dc.AuthenticationResult(ctx)
	})
	return tokensource.Refreshing(tokensource.Func(u.fetch), append([]tokensource.Option{tokensource.WithFetchTimeout(15 * time.Minute)}, opts...)...)
}

// silentTimeout bounds the silent attempt of a fetch of DeviceCode and
// InteractiveBrowser, whose fetch timeouts are long enough for a person to
// sign in. Engines read it when they are built.
var silentTimeout = 30 * time.Second

// errNoAccount says that the cache holds no account the engine may use
// without the user: none, not the engine's own, or several to choose from.
var errNoAccount = errors.New("no cached account to use silently")

// userFlow is the fetch of DeviceCode and InteractiveBrowser: silently for
// the engine's account, else signIn, which involves the user.
type userFlow struct {
	client        public.Client
	scopes        []string
	signIn        func(ctx context.Context) (public.AuthResult, error)
	silentTimeout time.Duration
	// loginHint returns the username the user is to sign in as, "" for
	// none; nil: none.
	loginHint func(ctx context.Context) (string, error)

	mu sync.Mutex
	// account is the home account ID of the engine's user: the account it
	// signed in or used last; "" before its first token. A fetch the engine
	// has given up on may still be running, hence the lock.
	account string
}

func newUserFlow(client public.Client, scopes []string, signIn func(context.Context) (public.AuthResult, error)) *userFlow {
	return &userFlow{client: client, scopes: scopes, signIn: signIn, silentTimeout: silentTimeout}
}

// fetch tries silently, and signs in unless the silent attempt failed for a
// passing reason.
func (u *userFlow) fetch(ctx context.Context) (*oauth2.Token, error) {
	res, err := u.silent(ctx)
	if err != nil && !transient(err) {
		res, err = u.signIn(ctx)
	}
	if err != nil {
		return nil, classifyMSAL(err)
	}
	if id := res.Account.HomeAccountID; id != "" {
		u.mu.Lock()
		u.account = id
		u.mu.Unlock()
	}
	return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
}

// silent acquires a token for the engine's account without the user, within
// silentTimeout: from MSAL's cache, or, when the fetch replaces the engine's
// token, by redeeming the refresh token.
func (u *userFlow) silent(ctx context.Context) (public.AuthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, u.silentTimeout)
	defer cancel()
	res, err := u.silentFor(ctx)
	if err != nil && ctx.Err() != nil {
		// The bound, or the fetch, ended while MSAL was at work: a passing
		// failure, whatever MSAL made of the request cut short.
		err = ctx.Err()
	}
	return res, err
}

// silentFor is silent's attempt, on its bounded context.
func (u *userFlow) silentFor(ctx context.Context) (public.AuthResult, error) {
	account, err := u.cachedAccount(ctx)
	if err != nil {
		return public.AuthResult{}, err
	}
	opts := []public.AcquireSilentOption{public.WithSilentAccount(account)}
	if tokensource.Replacing(ctx) {
		opts = append(opts, public.WithClaims(refreshClaims(time.Now())))
	}
	res, err := u.client.AcquireTokenSilent(ctx, u.scopes, opts...)
	if err == nil && res.Account.HomeAccountID == "" {
		res.Account = account
	}
	return res, err
}

// cachedAccount chooses the account to use silently among those MSAL's
// cache holds: the engine's own; before the engine has one, the one the
// login hint names, or without a hint the only one. It never guesses: with
// no such account, or several, it returns errNoAccount.
func (u *userFlow) cachedAccount(ctx context.Context) (public.Account, error) {
	accounts, err := u.client.Accounts(ctx)
	if err != nil {
		return public.Account{}, err
	}
	if len(accounts) == 0 {
		return public.Account{}, errNoAccount
	}
	u.mu.Lock()
	own := u.account
	u.mu.Unlock()
	match := func(a public.Account) bool { return a.HomeAccountID == own }
	if own == "" {
		hint := ""
		if u.loginHint != nil {
			if hint, err = u.loginHint(ctx); err != nil {
				return public.Account{}, err
			}
		}
		match = func(a public.Account) bool { return hint == "" || strings.EqualFold(a.PreferredUsername, hint) }
	}
	var chosen public.Account
	for _, a := range accounts {
		switch {
		case !match(a):
		case chosen.HomeAccountID == "":
			chosen = a
		case chosen.HomeAccountID != a.HomeAccountID: // two people
			return public.Account{}, errNoAccount
		}
	}
	if chosen.HomeAccountID == "" {
		return public.Account{}, errNoAccount
	}
	return chosen, nil
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
