package tokensource

import (
	"errors"

	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"golang.org/x/oauth2"
)

// ErrSourceCaches reports a token source that keeps a cache of its own: asked
// for a new token, it returned the one the engine already holds. Such a source
// defeats the early refresh; the engine gets a new token only when the
// source's cache lets go of the old one, shortly before it expires, so an
// outage of the identity provider at that point fails calls.
var ErrSourceCaches = errors.New("tokensource: the token source caches tokens itself and returned the token the engine " +
	"already holds, so the engine cannot refresh early; give the engine the un-cached source instead " +
	"(for example tokensource.ClientCredentials(ctx, cfg) rather than cfg.TokenSource(ctx), and never oauth2.ReuseTokenSource)")

// errUnchanged is the outcome of a fetch that returned the token in hand.
var errUnchanged = fetcherr.Unavailable("tokensource",
	"token source returned the token the engine already holds (it caches tokens itself); retrying later", ErrSourceCaches)

// sameToken reports whether tok is the token s holds.
func sameToken(s *snapshot, tok *oauth2.Token) bool {
	return s != nil && s.tok != nil && s.tok.AccessToken == tok.AccessToken
}
