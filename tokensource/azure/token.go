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

// renewsBefore is how long before a token expires az, azd and IMDS hand out
// a new one: until about 5 minutes before, they return their cached token.
// 4 minutes is inside that window, and before the engine stops serving a
// token (30 s before expiry by default).
const renewsBefore = 4 * time.Minute

// engineToken maps an access token and the wall-clock instants an identity
// provider (MSAL, a CLI) states for it onto a token. The instants are carried
// over as durations from now onto the clock of the engine fetching on ctx, so
// that clock (a fake one in tests) stays authoritative.
func engineToken(ctx context.Context, access string, expiresOn, refreshOn time.Time) *oauth2.Token {
	return mapToken(ctx, access, expiresOn, refreshOn, false)
}

// cachedToken is engineToken for a source that caches tokens by nature (az,
// azd, IMDS): it also tells the engine that asking before renewsBefore ahead
// of expiry brings this token back (engine.RenewsAtKey), so the engine asks
// then, and does not take the same token for a cache of the wrong kind.
func cachedToken(ctx context.Context, access string, expiresOn, refreshOn time.Time) *oauth2.Token {
	return mapToken(ctx, access, expiresOn, refreshOn, true)
}

func mapToken(ctx context.Context, access string, expiresOn, refreshOn time.Time, cached bool) *oauth2.Token {
	now, wall := engine.Now(ctx), time.Now()
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: now.Add(expiresOn.Sub(wall))}
	extra := map[string]any{}
	if !refreshOn.IsZero() {
		extra["refresh_in"] = refreshOn.Sub(wall).Seconds()
	}
	if cached {
		renews := tok.Expiry.Add(-renewsBefore).Round(0)
		if hint := now.Add(refreshOn.Sub(wall)).Round(0); !refreshOn.IsZero() && hint.Before(renews) {
			renews = hint // the provider's own refresh point, if earlier, wins
		}
		extra[engine.RenewsAtKey] = renews
	}
	if len(extra) > 0 {
		tok = tok.WithExtra(extra)
	}
	return tok
}
