package connection

import (
	"log/slog"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/tokensource"
	"google.golang.org/grpc"
)

// Option configures a [Connection].
type Option func(*options)

type options struct {
	dial     []grpc.DialOption
	tls      []composite.TLSOption
	logger   *slog.Logger
	loopback bool
	retry    *bool
	engine   []tokensource.Option
}

// WithDialOptions adds gRPC dial options, for example interceptors, keepalive
// or a service config.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// WithLogger logs token refreshes and swaps (never token text) to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClientCertificate presents a client certificate for mTLS.
func WithClientCertificate(certPEM, keyPEM []byte) Option {
	return func(o *options) { o.tls = append(o.tls, composite.WithClientCertificate(certPEM, keyPEM)) }
}

// WithServerName overrides the name checked against the server's certificate.
func WithServerName(name string) Option {
	return func(o *options) { o.tls = append(o.tls, composite.WithServerName(name)) }
}

// WithInsecureLoopback dials without TLS. It is refused unless the target is
// on 127.0.0.0/8, ::1, localhost or a Unix socket, and tokens are still only
// sent to a loopback peer. It is for local development only.
func WithInsecureLoopback() Option { return func(o *options) { o.loopback = true } }

// WithRetryOnUnauthenticated sets whether a unary call that ends with
// Unauthenticated is resent once with a fresh token. It is on by default for
// [WithTokenSource]. [WithExternalAccessToken] never resends, whatever this
// says: only the application can replace its token.
//
// A call is resent only when all of these hold: it is unary (a stream is
// never resent); the connection's credential sent a token from the refresh
// engine on it (not one set with [Connection.WithToken]; a call refused
// before that sent none); the call ended with Unauthenticated; the caller's
// context is still live; the engine accepts the invalidation (invalidations
// are rate-limited on the backoff schedule); and a token newer than the
// rejected one arrives before the caller's deadline. It is resent at most
// once. If no newer token can be had, the first answer is returned; if the
// caller's deadline passes while waiting for one, DeadlineExceeded is.
//
// This is safe when Unauthenticated comes from an authentication layer that
// runs before the handler, as a server interceptor such as jwtauth does: the
// handler never saw the first attempt. A handler that answers
// Unauthenticated itself after doing work would see the call twice; mark
// such calls with [NoRetryOnUnauthenticated], or turn the retry off here.
// One Unauthenticated does not come from the server at all: another per-RPC
// credential added with [WithDialOptions] that refuses the call after this
// connection's token was written. The call is then resent once too, at the
// cost of one token request; the server saw neither attempt.
func WithRetryOnUnauthenticated(on bool) Option { return func(o *options) { o.retry = &on } }

// WithRefreshOptions configures the refresh engine that [WithTokenSource]
// wraps around its source.
func WithRefreshOptions(opts ...tokensource.Option) Option {
	return func(o *options) { o.engine = append(o.engine, opts...) }
}

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o options) retryOn(def bool) bool {
	if o.retry != nil {
		return *o.retry
	}
	return def
}
