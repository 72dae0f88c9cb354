package tokensource

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ClientCredentials returns a source for the OAuth2 client-credentials grant
// that, unlike cfg.TokenSource, honours each fetch's context, so the engine's
// fetch timeout and Close can interrupt a hung token endpoint. The HTTP client
// is taken from ctx's oauth2.HTTPClient value, if any; ctx is not otherwise
// kept. Wrap the result in [Refreshing].
//
// The client authenticates with cfg.ClientSecret, or with an assertion given
// by [WithClientAssertion].
func ClientCredentials(ctx context.Context, cfg *clientcredentials.Config, opts ...ClientOption) Func {
	return grant(ctx, cfg, nil, opts)
}

// ClientOption configures how a client authenticates at the token endpoint,
// for [ClientCredentials], [JWTBearer] and [TokenExchange].
type ClientOption interface{ applyClient(*clientAuth) }

type clientOption func(*clientAuth)

func (f clientOption) applyClient(c *clientAuth) { f(c) }

// WithClientAssertion makes the client authenticate with the assertion that
// a returns, called for every request, instead of a client secret
// (client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
// RFC 7523 §2.2). cfg.ClientSecret must then be empty: with both set, every
// fetch fails with Unauthenticated and sends nothing.
func WithClientAssertion(a ClientAssertion) ClientOption {
	return clientOption(func(c *clientAuth) { c.assertion = a })
}

// ClientAssertionFrom returns a ClientAssertion that takes the assertion from
// src on every request, whatever the token endpoint: for an assertion that
// another party issues, such as a federated workload identity token in a
// file (src a [File]).
func ClientAssertionFrom(src ContextTokenSource) ClientAssertion {
	return func(ctx context.Context, _ string) (string, error) { return tokenText(ctx, src, "client assertion") }
}

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientAuth is how the client authenticates.
type clientAuth struct {
	assertion ClientAssertion
}

// grant returns a source that posts the grant that params makes (nil:
// client credentials) to cfg's token endpoint, through x/oauth2, which
// encodes the request, parses the answer and reports OAuth2 errors as
// oauth2.RetrieveError.
func grant(ctx context.Context, cfg *clientcredentials.Config, params func(context.Context) (url.Values, error), opts []ClientOption) Func {
	hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	var auth clientAuth
	for _, o := range opts {
		o.applyClient(&auth)
	}
	return func(fctx context.Context) (*oauth2.Token, error) {
		if auth.assertion != nil && cfg.ClientSecret != "" {
			return nil, status.Error(codes.Unauthenticated, "tokensource: a client assertion and a client secret are both set; choose one")
		}
		v := url.Values{}
		if params != nil {
			var err error
			if v, err = params(fctx); err != nil {
				return nil, err
			}
		}
		if err := auth.add(fctx, cfg.TokenURL, v); err != nil {
			return nil, err
		}
		if hc != nil {
			fctx = context.WithValue(fctx, oauth2.HTTPClient, hc)
		}
		return withParams(cfg, v, auth.assertion != nil || params != nil).Token(fctx)
	}
}

// add puts the client assertion, if any, into v.
func (a clientAuth) add(ctx context.Context, tokenURL string, v url.Values) error {
	if a.assertion == nil {
		return nil
	}
	s, err := a.assertion(ctx, tokenURL)
	if err != nil {
		return err
	}
	if s == "" {
		return errors.New("tokensource: the client assertion is empty")
	}
	v.Set("client_assertion_type", assertionType)
	v.Set("client_assertion", s)
	return nil
}

// isNil reports whether src is nil or a typed nil pointer or function.
func isNil(src any) bool {
	if src == nil {
		return true
	}
	v := reflect.ValueOf(src)
	return (v.Kind() == reflect.Pointer || v.Kind() == reflect.Func) && v.IsNil()
}

// withParams returns a copy of cfg that also sends v. x/oauth2 lets
// EndpointParams replace grant_type, which is how the other grants reuse its
// token request. inParams sends client_id in the body (and the secret, if
// any), as assertions and the RFC 7523 and 8693 grants expect, rather than
// leaving x/oauth2 to probe for basic authentication.
//
// cfg itself is used when there is nothing to add, so that x/oauth2 keeps
// remembering the authentication style it found for a plain secret; a copy
// never probes, since it sends everything in the body.
func withParams(cfg *clientcredentials.Config, v url.Values, inParams bool) *clientcredentials.Config {
	if len(v) == 0 && !inParams {
		return cfg
	}
	// Field by field: x/oauth2 keeps an atomic cache in the struct, which a
	// plain copy would read without synchronisation.
	c := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, EndpointParams: cfg.EndpointParams, AuthStyle: cfg.AuthStyle}
	if len(v) > 0 {
		c.EndpointParams = make(url.Values, len(cfg.EndpointParams)+len(v))
		for k, p := range cfg.EndpointParams {
			c.EndpointParams[k] = p
		}
		for k, p := range v {
			c.EndpointParams[k] = p
		}
	}
	if inParams && c.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.AuthStyle = oauth2.AuthStyleInParams
	}
	return &c
}

// tokenText returns the access token src gives, for use as an assertion or
// a subject or actor token.
func tokenText(ctx context.Context, src ContextTokenSource, what string) (string, error) {
	if isNil(src) {
		return "", status.Error(codes.Unauthenticated, "tokensource: the "+what+" source is nil")
	}
	tok, err := src.TokenContext(ctx)
	if err != nil {
		return "", err
	}
	if tok == nil || tok.AccessToken == "" {
		return "", errors.New("tokensource: the " + what + " source gave no token")
	}
	return tok.AccessToken, nil
}
