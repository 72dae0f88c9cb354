package tokensource

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/header"
	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// validateReasons matches every reason Validate may give after
// "tokensource: invalid token: ". Only offsets and an expiry time vary, so no
// byte of a token can hide in a message that matches.
var validateReasons = regexp.MustCompile(`^(` +
	`pass the token without the "Bearer " scheme` +
	`|token is empty` +
	`|token contains a (non-ASCII byte|space|control character \(CR, LF, tab or similar\)) at offset \d+` +
	`|token is a JWT \(its header names alg\) but its (claims do not parse|signature is not base64url)` +
	`|token is a JWT but its header names an alg that is not a known signing algorithm` +
	`|token expired at -?\d+-\d\d-\d\dT\d\d:\d\d:\d\dZ` +
	`)$`)

// FuzzValidate: any input is either refused with an ErrInvalidToken whose
// message is one of Validate's fixed reasons (and so does not echo the token),
// or is safe to put in a header.
func FuzzValidate(f *testing.F) {
	f.Add("opaque-token")
	f.Add("x\r\nevil: 1")
	f.Add(testjwt.Mint(time.Now().Add(time.Hour), nil))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.sig")
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiJacTctWHc5LUtwMiJ9.sig") // exp "Zq7-Xw9-Kp2"
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOlF4N30.sig")              // {"sub":Qx7}
	f.Add("ya29.c.Kp8BAgj0YZf3mC1rQ-_xW9v2LhTz8sNdE4uJkR7pB6aFoXyI")
	now := time.Now()
	f.Fuzz(func(t *testing.T, token string) {
		_, err := Validate(token, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error does not wrap ErrInvalidToken: %v", err)
			}
			msg := err.Error()
			if len(token) >= 8 && strings.Contains(msg, token) {
				t.Fatalf("error echoes the token: %v", err)
			}
			reason, ok := strings.CutPrefix(msg, ErrInvalidToken.Error()+": ")
			if !ok || !validateReasons.MatchString(reason) {
				t.Fatalf("error is not one of Validate's fixed reasons, so it may carry token bytes: %q", msg)
			}
			return
		}
		if herr := header.CheckValue(token); herr != nil {
			t.Fatalf("accepted a token unfit for a header: %v", herr)
		}
	})
}
