package connection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ErrNotExternal is returned by UpdateAccessToken on a connection that was not
// made with [WithExternalAccessToken].
var ErrNotExternal = errors.New("grpccreds: UpdateAccessToken needs a connection made with WithExternalAccessToken")

// Connection is a gRPC channel with its credentials. It implements
// grpc.ClientConnInterface, so generated clients take it directly. It is safe
// for concurrent use.
type Connection struct {
	cc       *grpc.ClientConn
	target   string
	bearer   *creds.Bearer
	logger   *slog.Logger
	external *tokensource.External
	engine   *tokensource.Refresher
	ownsEng  bool
}

// WithExternalAccessToken dials target over TLS (trusting rootPEM, or the
// system roots if it is nil) and sends token as a bearer token on every call.
// The token is validated first (see tokensource.Validate). Replace it with
// UpdateAccessToken.
func WithExternalAccessToken(target string, rootPEM []byte, token string, opts ...Option) (*Connection, error) {
	ext, err := tokensource.NewExternal(token)
	if err != nil {
		return nil, err
	}
	o := newOptions(opts)
	c := &Connection{target: target, external: ext, logger: o.logger}
	return c.dial(rootPEM, o, ext, o.retryOn(false))
}

// WithTokenSource dials target over TLS and sends tokens from ts on every
// call. ts is wrapped in the refresh engine (tokensource.Refreshing) unless it
// already is one; Close stops an engine the connection created. Unary calls
// the server answers with Unauthenticated are resent once with a new token
// (see WithRetryOnUnauthenticated). A *tokensource.External is used as is,
// as by WithExternalAccessToken, and UpdateAccessToken swaps its token.
//
// Give it a source that fetches a new token each time it is asked, such as
// tokensource.ClientCredentials or the MSAL sources of tokensource. A source
// that caches tokens itself (clientcredentials.Config.TokenSource,
// oauth2.ReuseTokenSource) hands back the same token until shortly before it
// expires, which defeats the early refresh: the engine notices, retries on
// its backoff schedule and warns once, but an identity-provider outage then
// fails calls from the moment the old token expires.
func WithTokenSource(target string, rootPEM []byte, ts oauth2.TokenSource, opts ...Option) (*Connection, error) {
	o := newOptions(opts)
	if ext, ok := ts.(*tokensource.External); ok {
		c := &Connection{target: target, external: ext, logger: o.logger}
		return c.dial(rootPEM, o, ext, false)
	}
	eng, own := ts.(*tokensource.Refresher)
	if !own {
		eng = tokensource.Refreshing(ts, engineOpts(o)...)
	}
	c := &Connection{target: target, engine: eng, ownsEng: !own}
	conn, err := c.dial(rootPEM, o, eng, o.retryOn(true))
	if err != nil && !own {
		eng.Close()
	}
	return conn, err
}

// WithTLS dials target over TLS without a token of its own. Calls carry a
// token only when the caller sets one with [Connection.WithToken], as a
// service forwarding its callers' tokens does.
func WithTLS(target string, rootPEM []byte, opts ...Option) (*Connection, error) {
	return (&Connection{target: target}).dial(rootPEM, newOptions(opts), nil, false)
}

// Insecure dials target without TLS and without a token of its own. It is
// for development against local servers. A token set with
// [Connection.WithToken], or by per-RPC credentials smuggled in through
// WithDialOptions, is sent only if the connection ends on this machine: the
// transport is creds.InsecureLoopback, gRPC rejects credentials that require
// transport security, and those of package creds built with
// creds.AllowInsecureLoopback check what the handshake found on every call.
func Insecure(target string, opts ...Option) (*Connection, error) {
	o := newOptions(opts)
	c := &Connection{target: target, bearer: creds.NewBearer(nil, creds.AllowInsecureLoopback())}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(creds.InsecureLoopback()), grpc.WithPerRPCCredentials(c.bearer)}
	cc, err := grpc.NewClient(target, append(dial, o.dial...)...)
	if err != nil {
		return nil, fmt.Errorf("grpccreds: dial %s: %w", target, err)
	}
	c.cc = cc
	return c, nil
}

func (c *Connection) dial(rootPEM []byte, o options, ts oauth2.TokenSource, retry bool) (*Connection, error) {
	transport, err := c.transport(rootPEM, o)
	if err != nil {
		return nil, err
	}
	c.bearer = creds.NewBearer(ts, bearerOpts(o)...)
	dial := []grpc.DialOption{grpc.WithTransportCredentials(transport), grpc.WithPerRPCCredentials(c.bearer)}
	if retry && c.engine != nil {
		dial = append(dial, grpc.WithChainUnaryInterceptor(retryUnauthenticated(c.engine, c.bearer)))
	}
	c.cc, err = grpc.NewClient(c.target, append(dial, o.dial...)...)
	if err != nil {
		return nil, fmt.Errorf("grpccreds: dial %s: %w", c.target, err)
	}
	return c, nil
}

func (c *Connection) transport(rootPEM []byte, o options) (credentials.TransportCredentials, error) {
	if !o.loopback {
		return composite.TLS(rootPEM, o.tls...)
	}
	if !isLoopbackTarget(c.target) {
		return nil, fmt.Errorf("grpccreds: WithInsecureLoopback refused: target %q is not a loopback address or Unix socket", c.target)
	}
	return creds.InsecureLoopback(), nil
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
			c.logger.Warn("grpccreds: access token update refused; the previous token stays", "error", err)
		} else {
			c.logger.Info("grpccreds: access token updated", "generation", c.external.Generation(), "expiry", c.external.Expiry())
		}
	}
	return err
}

// Invoke performs a unary call. It implements grpc.ClientConnInterface.
func (c *Connection) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.cc.Invoke(ctx, method, args, reply, opts...)
}

// NewStream opens a stream. It implements grpc.ClientConnInterface.
func (c *Connection) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// ClientConn returns the underlying channel, for APIs that need a
// *grpc.ClientConn (health checks, channelz, connectivity state).
func (c *Connection) ClientConn() *grpc.ClientConn { return c.cc }

// Close closes the channel and stops the refresh engine the connection
// created.
func (c *Connection) Close() error {
	err := c.cc.Close()
	if c.ownsEng {
		c.engine.Close()
	}
	return err
}

// String describes the connection without its token.
func (c *Connection) String() string {
	mode := "no token"
	switch {
	case c.external != nil:
		mode = fmt.Sprintf("external token, generation %d", c.external.Generation())
	case c.engine != nil:
		mode = fmt.Sprintf("refreshing token, generation %d", c.engine.Generation())
	}
	return fmt.Sprintf("connection.Connection{target: %s, %s}", c.target, mode)
}

// GoString is String, so %#v cannot print the token either.
func (c *Connection) GoString() string { return c.String() }

func bearerOpts(o options) []creds.Option {
	if o.loopback {
		return []creds.Option{creds.AllowInsecureLoopback()}
	}
	return nil
}

func engineOpts(o options) []tokensource.Option {
	if o.logger == nil {
		return o.engine
	}
	return append([]tokensource.Option{tokensource.WithLogger(o.logger)}, o.engine...)
}
