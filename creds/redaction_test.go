package creds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/enginetest"

	"testing"

	"golang.org/x/oauth2"

	"github.com/grpccreds/grpccreds/tokensource"
)

// No exported type, and no error, may print a token or key.
func TestFormattingNeverShowsSecrets(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	ext, _ := tokensource.NewExternal(secret)
	r := enginetest.Engine(t, tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: secret, Expiry: time.Now().Add(time.Hour)}, nil
	}))
	b := NewBearer(r)
	b.GetRequestMetadata(tlsCtx()) // populate the cache
	k, _ := NewAPIKey("x-api-key", secret)
	p := NewPlugin(func(context.Context, RequestInfo) (map[string]string, error) {
		return map[string]string{"x-k": secret}, nil
	})
	_, overrideErr := b.GetRequestMetadata(b.WithToken(tlsCtx(), secret+"\n"))
	_, keyErr := NewAPIKey("x-api-key", secret+" x")
	values := []any{b, NewBearer(ext), k, p, ext, r, overrideErr, keyErr, errors.Unwrap(keyErr)}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secret) {
				t.Errorf("%T printed with %s shows the secret: %s", v, verb, out)
			}
		}
	}
}
