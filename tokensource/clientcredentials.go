package tokensource

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials returns a source for the OAuth2 client-credentials grant
// that, unlike cfg.TokenSource, honours each fetch's context, so the engine's
// fetch timeout and Close can interrupt a hung token endpoint. The HTTP client
// is taken from ctx's oauth2.HTTPClient value, if any; ctx is not otherwise
// kept. Wrap the result in [Refreshing].
func ClientCredentials(ctx context.Context, cfg *clientcredentials.Config) Func {
	hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	return func(fctx context.Context) (*oauth2.Token, error) {
		if hc != nil {
			fctx = context.WithValue(fctx, oauth2.HTTPClient, hc)
		}
		return cfg.Token(fctx)
	}
}
