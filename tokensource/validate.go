package tokensource

import (
	"fmt"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/header"
)

// Validate checks a token before it is put into service. It rejects a token
// that is empty, contains spaces, CR/LF or other control characters, contains
// non-ASCII bytes, looks like a JWT but does not parse, or is a JWT whose exp
// is not after now. It returns the token's expiry (zero if unknown).
//
// Errors wrap [ErrInvalidToken] and never contain the token.
func Validate(token string, now time.Time) (time.Time, error) {
	if err := header.CheckValue(token); err != nil {
		if strings.HasPrefix(strings.ToLower(token), "bearer ") {
			return time.Time{}, fmt.Errorf("%w: pass the token without the \"Bearer \" scheme", ErrInvalidToken)
		}
		return time.Time{}, fmt.Errorf("%w: token %v", ErrInvalidToken, err)
	}
	exp, err := jwtExpiry(token)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: token looks like a JWT but does not parse: %v", ErrInvalidToken, err)
	}
	if !exp.IsZero() && !exp.After(now) {
		return time.Time{}, fmt.Errorf("%w: token expired at %s", ErrInvalidToken, exp.UTC().Format(time.RFC3339))
	}
	return exp, nil
}
