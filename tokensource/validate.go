package tokensource

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/header"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
)

// ErrInvalidToken is wrapped by every token validation error.
var ErrInvalidToken = errors.New("tokensource: invalid token")

// Validate checks a token before it is put into service. It rejects a token
// that is empty, contains spaces, CR/LF or other control characters, contains
// non-ASCII bytes, is a JWT that does not parse, or is a JWT whose exp is not
// after now. A token is a JWT if it has three dot-separated segments and the
// first is base64url of a JSON object with a string "alg"; any other token is
// opaque. It returns the token's expiry (zero if unknown).
//
// Errors wrap [ErrInvalidToken] and never contain a byte of the token: they
// give fixed reasons, offsets and the expiry time only.
func Validate(token string, now time.Time) (time.Time, error) {
	exp, err := check(token, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return exp, nil
}

// check is Validate with the bare reason.
func check(token string, now time.Time) (time.Time, error) {
	if err := header.CheckValue(token); err != nil {
		if strings.HasPrefix(strings.ToLower(token), "bearer ") {
			return time.Time{}, errors.New(`pass the token without the "Bearer " scheme`)
		}
		return time.Time{}, fmt.Errorf("token %v", err)
	}
	exp, err := jwtpeek.Expiry(token) // a fixed reason
	if err != nil {
		return time.Time{}, err
	}
	if !exp.IsZero() && !exp.After(now) {
		return time.Time{}, fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return exp, nil
}
