package connection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/loopback"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ErrNotExternal is returned by UpdateAccessToken on a connection that was not
// made with [WithExternalAccessToken] (or [WithTokenSource] over a
// *tokensource.External).
var ErrNotExternal = errors.New("connection: UpdateAccessToken needs a connection made with WithExternalAccessToken")

// Connection is a gRPC channel with its credentials. It implements
// grpc.ClientConnInterface, so generated clients take it directly. It is safe
// for concurrent use. Close releases everything it holds, including a token
// refresh engine it was given (see [WithTokenSource] for a shared one). Create it with [WithExternalAccessToken],
// [WithTokenSource], [WithTLS] or [Insecure]; the zero value is not usable.
type Connection struct {
	cc       *grpc.ClientConn
	target   string
	bearer   *creds.Bearer
	logger   *slog.Logger
	external *tokensource.External
	release  func() // releases the refresh engine, if any
	source   tokenFunc
	gen      engine.Generational
	called   atomic.Bool               // a call has been made (see firstCall)
	tls      *composite.TLSCredentials // nil without TLS
	users    *tokensource.PerUser      // nil without WithOnBehalfOf
}

// WithExternalAccessToken dials target over TLS (trusting rootPEM, or the
// system roots if it is nil) and sends token as a bearer token on every call.
// The token is validated first (see tokensource.Validate). Replace it with
// UpdateAccessToken. It starts connecting in the background before it
// returns, unless given [WithLazyStart].
func WithExternalAccessToken(target string, rootPEM []byte, token string, opts ...TokenOption) (*Connection, error) {
	ext, err := tokensource.NewExternal(token)
	if err != nil {
		return nil, err
	}
	return external(target, rootPEM, ext, collect(opts, TokenOption.applyToken))
}

func external(target string, rootPEM []byte, ext *tokensource.External, o options) (*Connection, error) {
	if err := o.checkRetry("a *tokensource.External, whose token only the application replaces"); err != nil {
		return nil, err
	}
	c := &Connection{target: target, external: ext, logger: o.logger, source: ext.TokenContext}
	c.gen, _ = engine.Of(ext)
	conn, err := c.dial(rootPEM, o, ext, false)
	if err == nil {
		conn.start(o, nil, false)
	}
	return conn, err
}

// WithTokenSource dials target over TLS and sends tokens from ts on every
// call, with the refresh engine (tokensource.Refreshing) in front of ts,
// configured by [WithRefreshOptions] and [WithLogger]. Unary calls the server
// answers with Unauthenticated are resent once with a new token (see
// [WithRetryOnUnauthenticated]).
//
// The connection owns what it is given: Close stops the engine, whether the
// connection built it or ts already was one (a *tokensource.Refresher, used
// as is; the engine options above are then refused, since it was configured
// when it was built). Several connections may share one engine, to call
// services that accept the same token: it stops when the last of them
// closes. A *tokensource.External is used as is, as by
// [WithExternalAccessToken], and UpdateAccessToken swaps its token.
//
// The connection starts connecting and the engine starts its first fetch
// before WithTokenSource returns, both in the background, so the first call
// waits for the slower of the two instead of both in turn; [WithLazyStart]
// turns this off. Neither can make WithTokenSource fail or wait: a failed
// fetch fails the first call with the fetch's status code (at once if the
// fetch has already failed; the call does not wait out the backoff), and a
// call after the engine's first backoff delay asks the provider again. If
// the early connection attempt fails (the server is not up yet), the first
// call gets an attempt of its own, as with a lazy connection. Three kinds of
// source are not asked early, only the connection is started: a source that
// signs a person in (one declaring a fetch timeout of a minute or more
// through engine.FetchTimeouter, as the browser and device-code sources of
// tokensource/azure do) does not open a browser or print a device code
// until the first call; a plain oauth2.TokenSource, without a TokenContext
// method, is not asked either, since nothing could stop that fetch if the
// connection were closed at once; and a ready-made *tokensource.Refresher,
// whose source the connection cannot see, is asked at the first call too
// (call its Token method to warm it).
//
// Give it a source that fetches a new token each time it is asked, such as
// tokensource.ClientCredentials or the sources of tokensource/azure. A source
// that caches tokens itself (clientcredentials.Config.TokenSource,
// oauth2.ReuseTokenSource) defeats the early refresh (see
// tokensource.Refresher).
func WithTokenSource(target string, rootPEM []byte, ts oauth2.TokenSource, opts ...SourceOption) (*Connection, error) {
	o := collect(opts, SourceOption.applySource)
	switch s := ts.(type) {
	case nil:
		return nil, errors.New("connection: WithTokenSource needs a token source, got nil")
	case *tokensource.External:
		if s == nil {
			return nil, errors.New("connection: WithTokenSource got a nil *tokensource.External")
		}
		set := map[string]bool{"WithRefreshOptions": o.engine != nil}
		if err := refuse("a *tokensource.External, which only the application replaces", set); err != nil {
			return nil, err
		}
		return external(target, rootPEM, s, o)
	case *tokensource.Refresher:
		if s == nil {
			return nil, errors.New("connection: WithTokenSource got a nil *tokensource.Refresher")
		}
		release, ok := engine.Retain(s)
		if !ok {
			return nil, errors.New("connection: WithTokenSource got a refresh engine that is already closed")
		}
		set := map[string]bool{"WithRefreshOptions": o.engine != nil, "WithLogger": o.logger != nil}
		if err := refuse("already a refresh engine, configured when it was built", set); err != nil {
			release()
			return nil, err
		}
		return withEngine(target, rootPEM, s, release, o, false)
	}
	eng, err := tokensource.Refreshing(ts, engineOptions(o)...)
	if err != nil {
		return nil, err
	}
	return withEngine(target, rootPEM, eng, func() { eng.Close() }, o, contextual(ts) && !interactive(ts))
}

// refuse fails naming the options set that do not apply to a source that is
// what.
func refuse(what string, set map[string]bool) error {
	var names []string
	for _, n := range []string{"WithRefreshOptions", "WithLogger"} {
		if set[n] {
			names = append(names, n)
		}
	}
	if names == nil {
		return nil
	}
	return fmt.Errorf("connection: %s does not apply: the token source is %s", strings.Join(names, " and "), what)
}

// withEngine dials with the refresh engine eng; prefetch says whether the
// engine's first fetch may start now (see [WithLazyStart]).
func withEngine(target string, rootPEM []byte, eng *tokensource.Refresher, release func(), o options, prefetch bool) (*Connection, error) {
	c := &Connection{target: target, release: release, source: eng.TokenContext}
	c.gen, _ = engine.Of(eng)
	conn, err := c.dial(rootPEM, o, eng, o.retryOn(true))
	if err != nil {
		release()
		return nil, err
	}
	conn.start(o, eng, prefetch)
	return conn, nil
}

// WithTLS dials target over TLS without a token of its own. Calls carry a
// token only when the caller sets one with [Connection.WithToken], as a
// service forwarding its callers' tokens does, and the call credentials of
// [WithCallCredentials].
func WithTLS(target string, rootPEM []byte, opts ...TLSOption) (*Connection, error) {
	o := collect(opts, TLSOption.applyTLS)
	if err := o.checkRetry("no token of its own"); err != nil {
		return nil, err
	}
	return (&Connection{target: target}).dial(rootPEM, o, nil, false)
}

// Insecure dials target without TLS and without a token of its own. It is
// for development against local servers. A token set with
// [Connection.WithToken], or call credentials added with
// [WithCallCredentials], are sent only if the connection ends on this machine:
// the transport is composite.InsecureLoopback, gRPC refuses credentials that
// require transport security, and those of package creds built with
// creds.AllowInsecureLoopback check what the handshake found on every call.
func Insecure(target string, opts ...Option) (*Connection, error) {
	o := collect(opts, Option.applyAll)
	if err := o.checkRetry("no token of its own"); err != nil {
		return nil, err
	}
	c := &Connection{target: target, bearer: creds.NewBearer(nil, creds.AllowInsecureLoopback())}
	return c.finish(composite.InsecureLoopback(), o, false)
}

func (c *Connection) dial(rootPEM []byte, o options, ts oauth2.TokenSource, retry bool) (*Connection, error) {
	transport, err := c.transport(rootPEM, o)
	if err != nil {
		return nil, err
	}
	var bo []creds.BearerOption
	if o.loopback {
		bo = append(bo, creds.AllowInsecureLoopback())
	}
	c.bearer = creds.NewBearer(ts, bo...)
	return c.finish(transport, o, retry)
}

// finish dials with the transport, the bearer and any other call
// credentials. retry says whether calls with the connection's own token are
// resent on Unauthenticated; those made with OnBehalfOf are unless the
// options turn the resend off.
func (c *Connection) finish(transport credentials.TransportCredentials, o options, retry bool) (*Connection, error) {
	var eng engine.Generational // the engine whose token is resent, if any
	if retry {
		eng = c.gen
	}
	var extra []grpc.DialOption
	if eng != nil || (o.users != nil && o.retryOn(true)) {
		extra = append(extra, grpc.WithChainUnaryInterceptor(retryUnauthenticated(eng, c.bearer)))
	}
	calls := credentials.PerRPCCredentials(c.bearer)
	if len(o.calls) > 0 {
		calls = composite.Call(append([]credentials.PerRPCCredentials{c.bearer}, o.calls...)...)
	}
	// The connection's own options come last, so no dial option can replace
	// its transport or its credentials.
	dial := append(slices.Clip(o.dial), grpc.WithTransportCredentials(transport), grpc.WithPerRPCCredentials(calls))
	cc, err := grpc.NewClient(c.target, append(dial, extra...)...)
	if err != nil {
		if c.tls != nil {
			c.tls.Close()
		}
		return nil, fmt.Errorf("connection: dial %s: %w", c.target, err)
	}
	c.cc, c.users = cc, o.users
	return c, nil
}

func (c *Connection) transport(rootPEM []byte, o options) (credentials.TransportCredentials, error) {
	if !o.loopback {
		var opts []composite.TLSOption
		if o.logger != nil {
			opts = append(opts, composite.WithTLSObserver(logTLS(o.logger)))
		}
		tc, err := composite.TLS(rootPEM, append(opts, o.tls...)...)
		if err != nil {
			return nil, err
		}
		c.tls = tc
		return tc, nil
	}
	if len(o.tlsSet) > 0 || rootPEM != nil {
		return nil, fmt.Errorf("connection: WithInsecureLoopback dials without TLS, so %s does not apply", tlsNames(o, rootPEM))
	}
	if !loopback.Target(c.target) {
		return nil, fmt.Errorf("connection: WithInsecureLoopback refused: target %q is not a loopback address or Unix socket", c.target)
	}
	return composite.InsecureLoopback(), nil
}

func tlsNames(o options, rootPEM []byte) string {
	names := o.tlsSet
	if rootPEM != nil {
		names = append([]string{"a root certificate (rootPEM)"}, names...)
	}
	return strings.Join(names, " or ")
}

// WithToken returns a context whose calls on this connection carry token
// instead of the connection's own (or instead of none, for [WithTLS] and
// [Insecure]). The token is bound to this connection: another Connection
// ignores it, so a service that forwards one incoming context to several
// downstream services sends a user's token only where it was meant to go.
// There is still exactly one authorization header, and the token is checked
// when the call is made: an unusable one fails the call with Unauthenticated.
// A call that carries its own token is not resent on Unauthenticated.
func (c *Connection) WithToken(ctx context.Context, token string) context.Context {
	return c.bearer.WithToken(ctx, token)
}

// UpdateAccessToken validates token and swaps it in atomically: calls and
// streams started afterwards carry it; the channel is not redialled. On error
// the previous token stays in force. Streams already open keep the token they
// started with.
func (c *Connection) UpdateAccessToken(token string) error {
	if c.external == nil {
		return ErrNotExternal
	}
	err := c.external.Update(token)
	if c.logger != nil {
		if err != nil {
			c.logger.Warn("connection: access token update refused; the previous token stays", "error", err)
		} else {
			c.logger.Info("connection: access token updated", "generation", c.gen.Generation(), "expiry", c.gen.Expiry())
		}
	}
	return err
}

// Invoke performs a unary call. It implements grpc.ClientConnInterface.
func (c *Connection) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if !c.called.Load() {
		c.firstCall(ctx)
	}
	return c.cc.Invoke(ctx, method, args, reply, opts...)
}

// NewStream opens a stream. It implements grpc.ClientConnInterface.
func (c *Connection) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if !c.called.Load() {
		c.firstCall(ctx)
	}
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// ClientConn returns the underlying channel, for APIs that need a
// *grpc.ClientConn (health checks, channelz, connectivity state).
func (c *Connection) ClientConn() *grpc.ClientConn { return c.cc }

// Close closes the channel, stops the refresh engine, if the connection
// has one (and with it a first fetch started at construction), and stops
// reading TLS files again (see [WithTLSOptions]). It also closes the
// users given to [WithOnBehalfOf].
func (c *Connection) Close() error {
	err := c.cc.Close()
	if c.release != nil {
		c.release()
	}
	if c.tls != nil {
		c.tls.Close()
	}
	if c.users != nil {
		c.users.Close()
	}
	return err
}

// String describes the connection without its token.
func (c *Connection) String() string {
	mode := "no token"
	switch {
	case c.external != nil:
		mode = fmt.Sprintf("external token, generation %d", c.gen.Generation())
	case c.gen != nil:
		mode = fmt.Sprintf("refreshing token, generation %d", c.gen.Generation())
	}
	return fmt.Sprintf("connection.Connection{target: %s, %s}", c.target, mode)
}

// GoString is String, so %#v cannot print the token either.
func (c *Connection) GoString() string { return c.String() }

func engineOptions(o options) []tokensource.Option {
	if o.logger == nil {
		return o.engine
	}
	return append([]tokensource.Option{tokensource.WithLogger(o.logger)}, o.engine...)
}

// checkRetry refuses WithRetryOnUnauthenticated(true) on a connection that
// has no token it can replace, own (what it has: none, or a token only the
// application replaces) or of WithOnBehalfOf users: it would resend nothing.
func (o options) checkRetry(own string) error {
	if o.retryOn(false) && o.users == nil {
		return fmt.Errorf("connection: WithRetryOnUnauthenticated(true) does not apply: the connection has %s, and no WithOnBehalfOf users", own)
	}
	return nil
}

func (o options) retryOn(def bool) bool {
	if o.retry != nil {
		return *o.retry
	}
	return def
}
