package tokensource

import (
	"time"

	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"golang.org/x/oauth2"
)

// expiryOf returns when tok expires: Token.Expiry, or else the JWT exp claim,
// or else the zero time (no expiry known).
func expiryOf(tok *oauth2.Token) time.Time {
	if !tok.Expiry.IsZero() {
		return tok.Expiry
	}
	exp, _ := jwtpeek.Expiry(tok.AccessToken)
	return exp
}
