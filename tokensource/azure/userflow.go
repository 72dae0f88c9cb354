package azure

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// silentTimeout bounds the silent attempt of a fetch of DeviceCode and
// InteractiveBrowser, whose fetch timeouts are long enough for a person to
// sign in. Sources read it when they are built.
var silentTimeout = 30 * time.Second

// errNoAccount says that the cache holds no account the source may use
// without the user: none, not the engine's own, or several to choose from.
var errNoAccount = errors.New("no cached account to use silently")

// userFlow is the source of DeviceCode and InteractiveBrowser: it fetches
// silently for its account, else calls signIn, which involves the user.
type userFlow struct {
	client        public.Client
	scopes        []string
	signIn        func(ctx context.Context) (public.AuthResult, error)
	silentTimeout time.Duration
	fetchTimeout  time.Duration // the engine's, by engine.FetchTimeouter
	// loginHint returns the username the user is to sign in as, "" for
	// none; nil: none.
	loginHint func(ctx context.Context) (string, error)

	mu sync.Mutex
	// account is the home account ID of the source's user: the account it
	// signed in or used last; "" before its first token. A fetch the engine
	// has given up on may still be running, hence the lock.
	account string
}

func newUserFlow(client public.Client, scopes []string, fetchTimeout time.Duration,
	signIn func(context.Context) (public.AuthResult, error)) *userFlow {
	return &userFlow{client: client, scopes: scopes, signIn: signIn, silentTimeout: silentTimeout, fetchTimeout: fetchTimeout}
}

// EngineFetchTimeout is the refresh engine's default fetch timeout for this
// source: time for a person to sign in (engine.FetchTimeouter).
func (u *userFlow) EngineFetchTimeout() time.Duration { return u.fetchTimeout }

func (u *userFlow) Token() (*oauth2.Token, error) { return u.TokenContext(context.Background()) }

// TokenContext tries silently, and signs in unless the silent attempt
// failed for a passing reason.
func (u *userFlow) TokenContext(ctx context.Context) (*oauth2.Token, error) {
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

// silent acquires a token for the source's account without the user, within
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
	if engine.Replacing(ctx) {
		opts = append(opts, public.WithClaims(refreshClaims(time.Now())))
	}
	res, err := u.client.AcquireTokenSilent(ctx, u.scopes, opts...)
	if err == nil && res.Account.HomeAccountID == "" {
		res.Account = account
	}
	return res, err
}

// cachedAccount chooses the account to use silently among those MSAL's
// cache holds: the source's own; before the source has one, the one the
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
