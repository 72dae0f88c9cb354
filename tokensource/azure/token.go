package azure

import (
	"context"
	"strconv"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

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
	now, wall := engine.Now(ctx), time.Now()
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: now.Add(expiresOn.Sub(wall))}
	if !refreshOn.IsZero() {
		tok = tok.WithExtra(map[string]any{"refresh_in": refreshOn.Sub(wall).Seconds()})
	}
	return tok
}
