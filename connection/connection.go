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
	"google.golang.org/grpc/credentials/insecure"
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
	return c.dial(rootPEM, o, creds.NewBearer(ext, bearerOpts(o)...), o.retryOn(false))
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
		return c.dial(rootPEM, o, creds.NewBearer(ext, bearerOpts(o)...), false)
	}
	eng, own := ts.(*tokensource.Refresher)
	if !own {
		eng = tokensource.Refreshing(ts, engineOpts(o)...)
	}
	c := &Connection{target: target, engine: eng, ownsEng: !own}
	conn, err := c.dial(rootPEM, o, creds.NewBearer(eng, bearerOpts(o)...), o.retryOn(true))
	if err != nil && !own {
		eng.Close()
	}
	return conn, err
}

// WithTLS dials target over TLS without per-call credentials.
func WithTLS(target string, rootPEM []byte, opts ...Option) (*Connection, error) {
	return (&Connection{target: target}).dial(rootPEM, newOptions(opts), nil, false)
}

// Insecure dials target without TLS and without credentials. It is for
// development against local servers. Per-RPC credentials smuggled in through
// WithDialOptions are refused: gRPC rejects any that require transport
// security, which every credential of package creds does unless it was built
// with creds.AllowInsecureLoopback, and those check for a loopback peer on
// every call.
func Insecure(target string, opts ...Option) (*Connection, error) {
	o := newOptions(opts)
	o.dial = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, o.dial...)
	cc, err := grpc.NewClient(target, o.dial...)
	if err != nil {
		return nil, fmt.Errorf("grpccreds: dial %s: %w", target, err)
	}
	return &Connection{cc: cc, target: target}, nil
}

func (c *Connection) dial(rootPEM []byte, o options, call credentials.PerRPCCredentials, retry bool) (*Connection, error) {
	transport, err := c.transport(rootPEM, o)
	if err != nil {
		return nil, err
	}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if call != nil {
		dial = append(dial, grpc.WithPerRPCCredentials(call))
	}
	if retry && c.engine != nil {
		dial = append(dial, grpc.WithChainUnaryInterceptor(retryUnauthenticated(c.engine)))
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
	return insecure.NewCredentials(), nil
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
