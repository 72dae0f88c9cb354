package tokensource_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// x/oauth2's client-credentials grant (the real library) behind the engine,
// against the HTTPS test authority. x/oauth2 stamps Expiry from the real
// clock; the test moves it onto the fake one.
func clientCredentials(s *grpccredstest.IdentityProvider, hc *http.Client, clk *clocktest.Clock) tokensource.Func {
	cfg := &clientcredentials.Config{ClientID: enginetest.ClientID, ClientSecret: enginetest.Secret, TokenURL: s.TokenURL,
		Scopes: []string{enginetest.Scope}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	cc := tokensource.ClientCredentials(ctx, cfg)
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := cc(ctx)
		if err == nil {
			tok.Expiry = clk.Now().Add(time.Until(tok.Expiry))
		}
		return tok, err
	}
}

// The authority is down from 50 % to 95 % of a 1 h token's lifetime, with a
// call every minute: tokensource.ClientCredentials behind the engine serves
// every call, and one token request per lifetime is made while healthy.
func TestClientCredentialsOutageMidLifetime(t *testing.T) {
	s := enginetest.Authority(t)
	s.SetLifetime(time.Hour, 0)
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	f, opts := enginetest.New(t)
	opts = append(opts, tokensource.WithBackoff(time.Second, time.Minute))
	r, err := tokensource.Refreshing(clientCredentials(s, hc, f.Clock), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	failed, tokens := 0, map[string]bool{}
	for m := range 75 {
		enginetest.Outage(t, s, m)
		tok, _, err := f.Call(r)
		f.Clock.Advance(time.Minute)
		if err != nil {
			failed++
			continue
		}
		tokens[tok.AccessToken] = true
	}
	if failed != 0 || len(tokens) != 2 || s.TokenRequests() != 2 {
		t.Fatalf("%d failed calls, %d tokens, %d token requests; want 0, 2 and 2", failed, len(tokens), s.TokenRequests())
	}
}
