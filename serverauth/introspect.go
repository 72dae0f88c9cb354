package serverauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/claims"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Introspection checks opaque tokens at an OAuth 2.0 token introspection
// endpoint (RFC 7662). A token is admitted only if the endpoint answers that
// it is active, its token_type (if given) is Bearer or access_token (not a
// refresh token), its exp (if given) has not passed, its aud holds one of
// Audiences and, if Issuer is set, its iss is Issuer. Its scope and other
// members become the call's claims, and MethodScopes and MethodRoles apply
// to them as to a JWT's.
//
// An active answer is cached, like a verified JWT, until the token's exp
// but never longer than MaxCacheAge (default 1 minute), so a token revoked
// at the authorization server is refused at most MaxCacheAge later. An
// inactive answer is not cached. Concurrent calls with the same token share
// one request. An endpoint that is down, slow (10 s) or answers anything but
// HTTP 200 with a JSON object gives Unavailable: never a pass.
type Introspection struct {
	// URL is the introspection endpoint (https, or http to a loopback
	// address).
	URL string
	// ClientID and ClientSecret authenticate this API to the endpoint with
	// HTTP Basic (client_secret_basic, RFC 6749 §2.3.1). Leave both empty
	// if Config.HTTPClient authenticates another way (mutual TLS).
	ClientID     string
	ClientSecret string
	// Audiences: the answer's aud must hold one of them. SkipAudienceCheck
	// accepts any audience, or none; setting both is an error.
	Audiences         []string
	SkipAudienceCheck bool
	// Issuer, if set, must equal the answer's iss.
	Issuer string
	// MaxCacheAge bounds how long an active answer is trusted (default 1
	// minute; negative means it is not cached).
	MaxCacheAge time.Duration
}

// String describes the endpoint without the client secret.
func (in *Introspection) String() string {
	if in == nil {
		return "<nil>"
	}
	return fmt.Sprintf("serverauth.Introspection{URL: %q, ClientID: %q, ClientSecret: %s}", in.URL, in.ClientID, redacted(in.ClientSecret))
}

// GoString is String, so that %#v does not print the secret either.
func (in *Introspection) GoString() string { return in.String() }

func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "<redacted>"
}

// introspector asks the endpoint of an [Introspection].
type introspector struct {
	cfg    Introspection
	client *http.Client
	leeway time.Duration
	log    *slog.Logger
	ctx    context.Context // the verifier's: a shared request outlives its first caller
	calls  singleflight.Group
}

func newIntrospector(ctx context.Context, cfg Config) (*introspector, error) {
	if cfg.Introspection == nil {
		return nil, nil
	}
	in := *cfg.Introspection
	switch {
	case len(in.Audiences) == 0 && !in.SkipAudienceCheck:
		return nil, errors.New("serverauth: Introspection.Audiences is empty: set it to the aud of tokens meant for this API, or set SkipAudienceCheck")
	case len(in.Audiences) > 0 && in.SkipAudienceCheck:
		return nil, errors.New("serverauth: Introspection.Audiences and SkipAudienceCheck are both set: keep one")
	case (in.ClientID == "") != (in.ClientSecret == ""):
		return nil, errors.New("serverauth: Introspection: set both ClientID and ClientSecret, or neither")
	}
	if err := checkFetchURL(in.URL); err != nil {
		return nil, fmt.Errorf("serverauth: Introspection.URL: %w", err)
	}
	in.Audiences = slices.Clone(in.Audiences)
	if in.MaxCacheAge == 0 {
		in.MaxCacheAge = time.Minute
	}
	return &introspector{cfg: in, client: cmp.Or(cfg.HTTPClient, http.DefaultClient), leeway: leeway(cfg), log: cfg.Logger, ctx: ctx}, nil
}

// verify asks the endpoint about token, or joins the request for it already
// in flight, waiting as long as ctx allows.
func (in *introspector) verify(ctx context.Context, token string, now time.Time) (*verified, error) {
	h := hashToken(token)
	ch := in.calls.DoChan(string(h[:]), func() (any, error) {
		ctx, cancel := context.WithTimeout(in.ctx, fetchTimeout)
		defer cancel()
		return in.ask(ctx, token)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if res.Err != nil {
		return nil, res.Err
	}
	return in.admit(res.Val.(claims.Claims), now)
}

// ask posts token to the endpoint and returns its answer's members.
func (in *introspector) ask(ctx context.Context, token string) (claims.Claims, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, in.unavailable("building the request failed")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.cfg.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, in.unavailable("the endpoint could not be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, in.unavailable(fmt.Sprintf("the endpoint answered HTTP %d", resp.StatusCode))
	}
	var answer claims.Claims
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil || answer == nil {
		return nil, in.unavailable("the endpoint's answer is not a JSON object")
	}
	return answer, nil
}

// unavailable logs why the endpoint could not answer and returns the
// Unavailable the caller gets.
func (in *introspector) unavailable(reason string) error {
	if in.log != nil {
		in.log.Warn("serverauth: token introspection failed", "url", in.cfg.URL, "reason", reason)
	}
	return status.Error(codes.Unavailable, "cannot check the token now: token introspection failed: "+reason)
}

// admit applies the Introspection's rules to an answer.
func (in *introspector) admit(answer claims.Claims, now time.Time) (*verified, error) {
	if active, _ := answer["active"].(bool); !active {
		return nil, status.Error(codes.Unauthenticated, "invalid token: it is not active")
	}
	if typ, ok := answer["token_type"]; ok && !isAccessTokenType(typ) {
		return nil, status.Error(codes.Unauthenticated, "invalid token: it is not an access token")
	}
	c := newVerified(answer)
	if !c.expiry.IsZero() && !now.Before(c.expiry.Add(in.leeway)) {
		return nil, status.Error(codes.Unauthenticated, "invalid token: token is expired")
	}
	if in.cfg.Issuer != "" && answer["iss"] != in.cfg.Issuer {
		return nil, status.Error(codes.Unauthenticated, "invalid token: the token's issuer (iss) is not one this API trusts")
	}
	if !in.cfg.SkipAudienceCheck && !slices.ContainsFunc(audiences(answer), func(a string) bool { return slices.Contains(in.cfg.Audiences, a) }) {
		return nil, status.Error(codes.Unauthenticated, "invalid token: the token's audience (aud) is not this API")
	}
	c.until = now.Add(in.cfg.MaxCacheAge)
	if !c.expiry.IsZero() && c.expiry.Before(c.until) {
		c.until = c.expiry
	}
	return c, nil
}

// isAccessTokenType reports whether an answer's token_type names a bearer
// access token; a refresh token, which an authorization server also
// answers for, must not be accepted in its place.
func isAccessTokenType(typ any) bool {
	s, _ := typ.(string)
	return strings.EqualFold(s, "Bearer") || strings.EqualFold(s, "access_token")
}

// audiences reads aud, a string or an array of strings.
func audiences(c claims.Claims) []string {
	switch aud := c["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
