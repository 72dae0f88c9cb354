package bench

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/credentials"
	grpcjwt "google.golang.org/grpc/credentials/jwt"
	"google.golang.org/grpc/credentials/oauth"
)

// Lib builds one library's per-RPC credentials over a token endpoint. The
// returned func releases what it started.
type Lib struct {
	Name string
	New  func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func())
}

// Opts tunes a library for a scenario.
type Opts struct {
	RefreshIn   time.Duration // grpccreds: the issuer's refresh_in hint
	ExpireEarly time.Duration // cloud.google.com/go/auth: its early-refresh window
	// Waited, if set, counts the calls that grpccreds made wait for a fetch
	// (its CallerWaited events), to tell such waits from scheduling pauses.
	Waited *atomic.Int64
}

// Ours is creds.Bearer over the refresh engine. refreshIn, if set, is sent as
// the issuer's refresh_in hint.
var Ours = Lib{"grpccreds", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	var opts []tokensource.Option
	if o.Waited != nil {
		opts = append(opts, tokensource.WithObserver(func(ev tokensource.Event) {
			if ev.Kind == tokensource.CallerWaited {
				o.Waited.Add(1)
			}
		}))
	}
	r, err := tokensource.Refreshing(tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		tok, exp := e.Fetch()
		t := &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: exp}
		if o.RefreshIn > 0 {
			t = t.WithExtra(map[string]any{"refresh_in": o.RefreshIn.Seconds()})
		}
		return t, nil
	}), opts...)
	if err != nil {
		panic(err) // Refreshing refuses no observer
	}
	return creds.NewBearer(r), func() { r.Close() }
}}

// OAuthReuse is grpc-go's credentials/oauth.TokenSource over
// oauth2.ReuseTokenSource, the standard pairing.
var OAuthReuse = Lib{"oauth+ReuseTokenSource", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	src := oauth2.ReuseTokenSource(nil, tokenSourceFunc(func() (*oauth2.Token, error) {
		tok, exp := e.Fetch()
		return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: exp}, nil
	}))
	return oauth.TokenSource{TokenSource: src}, func() {}
}}

// OAuthAccess is grpc-go's oauth.NewOauthAccess: one fixed token, no refresh.
var OAuthAccess = Lib{"oauth.NewOauthAccess", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	tok, _ := e.Fetch()
	//lint:ignore SA1019 the deprecated constructor is one of the anchors compared against
	return oauth.NewOauthAccess(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"}), func() {}
}}

// GoogleAuth is cloud.google.com/go/auth's cached token provider (async
// refresh) behind the same steps as its grpctransport credentials.
var GoogleAuth = Lib{"cloud.google.com/go/auth", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	tp := auth.NewCachedTokenProvider(googleProvider(func() (*auth.Token, error) {
		tok, exp := e.Fetch()
		return &auth.Token{Value: tok, Type: "Bearer", Expiry: exp}, nil
	}), &auth.CachedTokenProviderOptions{ExpireEarly: o.ExpireEarly})
	return &googleCreds{creds: auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: tp})}, func() {}
}}

// JWTFile is grpc-go's credentials/jwt token-file credentials (gRFC A97);
// the endpoint's delay does not apply, since it reads a file.
var JWTFile = Lib{"grpc credentials/jwt (file)", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	dir, _ := os.MkdirTemp("", "grpccreds-bench")
	path := filepath.Join(dir, "token")
	os.WriteFile(path, []byte(testjwt.Mint(time.Now().Add(time.Hour), nil)), 0o600)
	pc, err := grpcjwt.NewTokenFileCallCredentials(path)
	if err != nil {
		panic(err)
	}
	return pc, func() { os.RemoveAll(dir) }
}}

type googleProvider func() (*auth.Token, error)

func (f googleProvider) Token(context.Context) (*auth.Token, error) { return f() }

// Floor sends a fixed, prebuilt map: no library at all, the harness's own
// noise.
var Floor = Lib{"floor (prebuilt map)", func(e *Endpoint, o Opts) (credentials.PerRPCCredentials, func()) {
	tok, _ := e.Fetch()
	return staticCreds{"authorization": "Bearer " + tok}, func() {}
}}

type staticCreds map[string]string

func (s staticCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return s, nil
}
func (staticCreds) RequireTransportSecurity() bool { return true }

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// googleCreds mirrors the steps of grpctransport's unexported
// grpcCredentialsProvider.GetRequestMetadata: token, universe domain, security
// level, a fresh map.
type googleCreds struct{ creds *auth.Credentials }

func (g *googleCreds) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := g.creds.Token(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := g.creds.UniverseDomain(ctx); err != nil {
		return nil, err
	}
	ri, _ := credentials.RequestInfoFromContext(ctx)
	if err := credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity); err != nil {
		return nil, err
	}
	md := make(map[string]string, 1)
	md["authorization"] = tok.Type + " " + tok.Value
	return md, nil
}

func (g *googleCreds) RequireTransportSecurity() bool { return true }
