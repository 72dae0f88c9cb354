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
	"sync"
	"time"

	"github.com/grpccreds/grpccreds/claims"
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
func (in Introspection) String() string {
	return fmt.Sprintf("serverauth.Introspection{URL: %q, ClientID: %q, ClientSecret: %s}", in.URL, in.ClientID, redacted(in.ClientSecret))
}

// GoString is String, so that %#v does not print the secret either.
func (in Introspection) GoString() string { return in.String() }

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
	tasks  *tasks          // the verifier's: Close waits for requests
	check  func(claims.Claims) error

	mu       sync.Mutex
	inFlight map[[32]byte]*asking
}

func newIntrospector(ctx context.Context, bg *tasks, cfg Config, check func(claims.Claims) error) (*introspector, error) {
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
	return &introspector{cfg: in, client: cmp.Or(cfg.HTTPClient, http.DefaultClient), leeway: leeway(cfg), log: cfg.Logger,
		ctx: ctx, tasks: bg, check: check, inFlight: map[[32]byte]*asking{}}, nil
}

// maxIntrospections bounds the requests in flight to the endpoint, so that
// callers with made-up tokens cannot multiply the load on it.
const maxIntrospections = 32

// asking is one request to the endpoint, shared by the calls with its
// token; done closes when it ends.
type asking struct {
	done   chan struct{}
	answer claims.Claims
	err    error
}

// verify asks the endpoint about token, or joins the request for it already
// in flight, waiting as long as ctx allows. The request runs detached from
// the caller, with its own timeout, so callers that join it are not failed
// by the one that started it giving up.
func (in *introspector) verify(ctx context.Context, token string, now time.Time) (*verified, error) {
	a, err := in.start(token)
	if err != nil {
		return nil, err
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if a.err != nil {
		return nil, a.err
	}
	return in.admit(a.answer, now)
}

// start joins the request for token in flight, or starts one.
func (in *introspector) start(token string) (*asking, error) {
	key := hashToken(token)
	in.mu.Lock()
	defer in.mu.Unlock()
	if a, ok := in.inFlight[key]; ok {
		return a, nil
	}
	if len(in.inFlight) >= maxIntrospections {
		return nil, in.unavailable(fmt.Sprintf("%d introspections are in flight already", maxIntrospections))
	}
	a := &asking{done: make(chan struct{})}
	if !in.tasks.Go(func() { in.run(key, token, a) }) {
		return nil, status.Error(codes.Unavailable, "cannot check the token now: the verifier is closed")
	}
	in.inFlight[key] = a
	return a, nil
}

func (in *introspector) run(key [32]byte, token string, a *asking) {
	ctx, cancel := context.WithTimeout(in.ctx, fetchTimeout)
	defer cancel()
	answer, err := in.ask(ctx, token)
	in.mu.Lock()
	a.answer, a.err = answer, err
	delete(in.inFlight, key)
	in.mu.Unlock()
	close(a.done)
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
	if !isAccessToken(answer) {
		return nil, status.Error(codes.Unauthenticated, "invalid token: it is not an access token")
	}
	c := newVerified(answer)
	if err := in.checkTimes(answer, c.expiry, now); err != nil {
		return nil, err
	}
	if in.cfg.Issuer != "" && answer["iss"] != in.cfg.Issuer {
		return nil, status.Error(codes.Unauthenticated, "invalid token: the token's issuer (iss) is not one this API trusts")
	}
	if !in.cfg.SkipAudienceCheck && !slices.ContainsFunc(audiences(answer), func(a string) bool { return slices.Contains(in.cfg.Audiences, a) }) {
		return nil, status.Error(codes.Unauthenticated, "invalid token: the token's audience (aud) is not this API")
	}
	if err := in.check(answer); err != nil {
		return nil, err
	}
	c.until = now.Add(in.cfg.MaxCacheAge)
	if !c.expiry.IsZero() && c.expiry.Before(c.until) {
		c.until = c.expiry
	}
	return c, nil
}

// isAccessToken reports whether an answer is about a bearer access token: a
// refresh token, which an authorization server also answers for, must not
// be accepted in its place. token_type, if given, must be Bearer or
// access_token; typ, if given, must not be Refresh or Offline (Keycloak's
// names for refresh tokens).
func isAccessToken(answer claims.Claims) bool {
	if typ, ok := answer["token_type"]; ok {
		s, _ := typ.(string)
		if !strings.EqualFold(s, "Bearer") && !strings.EqualFold(s, "access_token") {
			return false
		}
	}
	typ, _ := answer["typ"].(string)
	return !strings.EqualFold(typ, "Refresh") && !strings.EqualFold(typ, "Offline")
}

// checkTimes refuses an answer whose exp has passed or is not a number, or
// whose nbf is still ahead, each with the leeway.
func (in *introspector) checkTimes(answer claims.Claims, exp, now time.Time) error {
	if _, ok := answer["exp"]; ok && exp.IsZero() {
		return status.Error(codes.Unauthenticated, "invalid token: its exp is not a number")
	}
	if !exp.IsZero() && !now.Before(exp.Add(in.leeway)) {
		return status.Error(codes.Unauthenticated, "invalid token: token is expired")
	}
	if nbf, ok := answer["nbf"]; ok {
		at := claims.Claims{"exp": nbf}.Expiry()
		if at.IsZero() || now.Add(in.leeway).Before(at) {
			return status.Error(codes.Unauthenticated, "invalid token: token is not valid yet")
		}
	}
	return nil
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
