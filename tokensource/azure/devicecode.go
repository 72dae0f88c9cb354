package azure

import (
	"context"
	"reflect"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource"
)

// DeviceCodePrompt tells the user where to sign in.
type DeviceCodePrompt struct {
	// UserCode is the code the user enters.
	UserCode string
	// VerificationURL is where the user enters it.
	VerificationURL string
	// Message is Azure AD's ready-made instruction, e.g. "To sign in, use a
	// web browser to open … and enter the code …".
	Message string
	// Expires is when the code stops working.
	Expires time.Time
}

// DeviceCode gets tokens for a user of a command-line tool, through an MSAL
// public client: the user signs in on another device with a code.
type DeviceCode struct {
	// Client is the MSAL public client; with msalcache.Persistent in
	// public.WithCache, the user signs in once across runs.
	Client public.Client
	// Scopes to get tokens for, e.g. "api://my-api/.default"; required.
	Scopes []string
	// Prompt shows the user the code and where to enter it; required. It
	// runs on the fetch's goroutine, which the engine may have given up on.
	Prompt func(context.Context, DeviceCodePrompt)
}

// TokenSource checks the configuration and returns the source. A fetch
// that does not replace a token runs the device-code flow: Prompt shows the
// code and URL, and the fetch waits until the user has signed in elsewhere,
// unless MSAL's cache already holds the user's account and a token for it.
// A fetch that replaces the engine's token ([tokensource.Replacing]) is
// silent and redeems MSAL's refresh token for a new access token, bypassing
// MSAL's cached one (see [Confidential.TokenSource] for why); only if Azure
// AD refuses the refresh token is the user prompted again. A silent attempt
// that fails for a passing reason (the network, a timeout, 5xx, 429)
// prompts no one: the fetch fails Unavailable and the engine retries.
//
// Which cached account is used: once the source has signed a user in (or
// used a cached account), always that one, found by its home account ID.
// Before that, the only account in MSAL's cache; if the cache holds several
// (a cache shared with other tools), the source does not guess but asks for
// a device code, and keeps the account that signs in.
//
// The refresh engine in front of it (connection.WithTokenSource, or
// tokensource.Refreshing) gives each fetch 15 minutes, the lifetime of a
// device code, unless tokensource.WithFetchTimeout says otherwise. The
// silent attempt has its own bound of 30 seconds within the fetch, so an
// identity provider that does not answer holds a refresh no longer than
// that.
func (d DeviceCode) TokenSource() (tokensource.ContextTokenSource, error) {
	if len(d.Scopes) == 0 || d.Prompt == nil {
		return nil, invalid("DeviceCode needs Scopes and a Prompt function")
	}
	if reflect.ValueOf(d.Client).IsZero() {
		return nil, invalid("DeviceCode needs a Client built with public.New")
	}
	client, scopes, prompt := d.Client, d.Scopes, d.Prompt
	return newUserFlow(client, scopes, 15*time.Minute, func(ctx context.Context) (public.AuthResult, error) {
		dc, err := client.AcquireTokenByDeviceCode(ctx, scopes)
		if err != nil {
			return public.AuthResult{}, err
		}
		prompt(ctx, DeviceCodePrompt{UserCode: dc.Result.UserCode, VerificationURL: dc.Result.VerificationURL,
			Message: dc.Result.Message, Expires: dc.Result.ExpiresOn})
		return dc.AuthenticationResult(ctx)
	}), nil
}
