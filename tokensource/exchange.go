package tokensource

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Token type identifiers of RFC 8693 §3.
const (
	AccessTokenType = "urn:ietf:params:oauth:token-type:access_token"
	JWTTokenType    = "urn:ietf:params:oauth:token-type:jwt"
	IDTokenType     = "urn:ietf:params:oauth:token-type:id_token"
)

// JWTBearer returns a source for the JWT bearer grant (RFC 7523 §2.1): it
// trades the assertion that assertion gives, asked for afresh on every fetch
// (a [File] for a Kubernetes projected service-account token or a CI
// system's OIDC token, a [Func], or any other source), for an access token
// from cfg.TokenURL, for cfg.Scopes. cfg.ClientID and cfg.ClientSecret, or
// [WithClientAssertion], authenticate the client if the server wants that;
// leave them empty if it does not. Unless cfg.AuthStyle says otherwise, the
// client ID and secret go in the request body (client_secret_post); set
// oauth2.AuthStyleInHeader for a server that wants HTTP basic
// authentication.
//
// Like [ClientCredentials], it honours each fetch's context, takes its HTTP
// client from ctx's oauth2.HTTPClient value, and keeps no cache: wrap it in
// [Refreshing].
func JWTBearer(ctx context.Context, cfg *clientcredentials.Config, assertion ContextTokenSource, opts ...ClientOption) Func {
	return grant(ctx, cfg, func(ctx context.Context) (url.Values, error) {
		a, err := tokenText(ctx, assertion, "assertion")
		if err != nil {
			return nil, err
		}
		return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}}, nil
	}, opts)
}

// Exchange is what an RFC 8693 token exchange asks for.
type Exchange struct {
	// SubjectToken gives the token that represents the party for whom the
	// new token is wanted, asked for afresh on every fetch. Required.
	SubjectToken ContextTokenSource
	// SubjectTokenType is its type; by default [AccessTokenType].
	SubjectTokenType string
	// ActorToken, if set, gives the token of the party acting for the
	// subject, and ActorTokenType its type (by default [AccessTokenType]).
	ActorToken     ContextTokenSource
	ActorTokenType string
	// Audience and Resource name where the new token is to be used.
	Audience []string
	Resource []string
	// RequestedTokenType is the type wanted, [AccessTokenType] or
	// [JWTTokenType]: the token is sent as a bearer token, so a type the
	// server answers with token_type N_A (an ID token, say) is refused. The
	// issued_token_type of the answer must equal it; if it is empty, the
	// answer must be an [AccessTokenType] or a [JWTTokenType].
	RequestedTokenType string
}

// TokenExchange returns a source for the token-exchange grant (RFC 8693): it
// trades x's subject token (and actor token, if any) for a token from
// cfg.TokenURL, for cfg.Scopes. The answer must name its issued_token_type
// (see [Exchange.RequestedTokenType]) and be a bearer token, since it is sent
// as one; anything else is Unauthenticated. The client authenticates as for
// [JWTBearer].
//
// Like [ClientCredentials], it honours each fetch's context, takes its HTTP
// client from ctx's oauth2.HTTPClient value, and keeps no cache: wrap it in
// [Refreshing], or use [NewPerUser] for a token per incoming user.
func TokenExchange(ctx context.Context, cfg *clientcredentials.Config, x Exchange, opts ...ClientOption) Func {
	post := grant(ctx, cfg, x.params, opts)
	return func(ctx context.Context) (*oauth2.Token, error) {
		if isNil(x.SubjectToken) {
			return nil, status.Error(codes.Unauthenticated, "tokensource: TokenExchange needs a SubjectToken")
		}
		tok, err := post(ctx)
		if err == nil {
			err = x.check(tok)
		}
		if err != nil {
			return nil, err
		}
		return tok, nil
	}
}

// params encodes the request (RFC 8693 §2.1).
func (x Exchange) params(ctx context.Context) (url.Values, error) {
	subject, err := tokenText(ctx, x.SubjectToken, "subject token")
	if err != nil {
		return nil, err
	}
	v := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {subject},
		"subject_token_type": {or(x.SubjectTokenType, AccessTokenType)},
	}
	if x.ActorToken != nil {
		actor, err := tokenText(ctx, x.ActorToken, "actor token")
		if err != nil {
			return nil, err
		}
		v.Set("actor_token", actor)
		v.Set("actor_token_type", or(x.ActorTokenType, AccessTokenType))
	}
	if len(x.Audience) > 0 {
		v["audience"] = x.Audience
	}
	if len(x.Resource) > 0 {
		v["resource"] = x.Resource
	}
	if x.RequestedTokenType != "" {
		v.Set("requested_token_type", x.RequestedTokenType)
	}
	return v, nil
}

// check refuses an answer that is not the bearer token asked for.
func (x Exchange) check(tok *oauth2.Token) error {
	issued, _ := tok.Extra("issued_token_type").(string)
	switch {
	case issued == "":
		return errExchange("the answer has no issued_token_type")
	case x.RequestedTokenType != "" && issued != x.RequestedTokenType:
		return errExchange(fmt.Sprintf("issued_token_type %.100q, not the %.100q requested", issued, x.RequestedTokenType))
	case x.RequestedTokenType == "" && issued != AccessTokenType && issued != JWTTokenType:
		return errExchange(fmt.Sprintf("issued_token_type %.100q is neither an access token nor a JWT", issued))
	case !strings.EqualFold(tok.TokenType, "bearer"):
		return errExchange(fmt.Sprintf("token_type %.20q is not Bearer", tok.TokenType))
	}
	return nil
}

func errExchange(msg string) error {
	return status.Error(codes.Unauthenticated, "tokensource: token exchange: "+msg)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
