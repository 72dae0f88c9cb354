package tokensource

import (
	"fmt"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/header"
)

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
	if err := header.CheckValue(token); err != nil {
		if strings.HasPrefix(strings.ToLower(token), "bearer ") {
			return time.Time{}, fmt.Errorf("%w: pass the token without the \"Bearer \" scheme", ErrInvalidToken)
		}
		return time.Time{}, fmt.Errorf("%w: token %v", ErrInvalidToken, err)
	}
	exp, err := jwtExpiry(token)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", ErrInvalidToken, err) // a fixed reason from jwt.go
	}
	if !exp.IsZero() && !exp.After(now) {
		return time.Time{}, fmt.Errorf("%w: token expired at %s", ErrInvalidToken, exp.UTC().Format(time.RFC3339))
	}
	return exp, nil
}
