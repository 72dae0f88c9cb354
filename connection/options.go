package connection

import (
	"log/slog"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/tokensource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// The option types follow the constructors that accept them, so an option
// that would not apply to a constructor does not compile with it:
//
//	Insecure                 Option
//	WithTLS                  Option, TLSOption
//	WithExternalAccessToken  Option, TLSOption, TokenOption
//	WithTokenSource          Option, TLSOption, TokenOption, SourceOption
//
// WithRetryOnUnauthenticated is an Option because OnBehalfOf calls may be
// resent on any connection; set to true where there is nothing to resend,
// it is refused when the connection is made.
type (
	// SourceOption configures [WithTokenSource].
	SourceOption interface{ applySource(*options) }

	// TokenOption configures the connections that carry a token of their
	// own: [WithExternalAccessToken] and [WithTokenSource].
	TokenOption interface {
		SourceOption
		applyToken(*options)
	}

	// TLSOption configures the connections dialled over TLS:
	// [WithExternalAccessToken], [WithTokenSource] and [WithTLS].
	TLSOption interface {
		TokenOption
		applyTLS(*options)
	}

	// Option configures every connection, [Insecure] included.
	Option interface {
		TLSOption
		applyAll(*options)
	}
)

type options struct {
	dial     []grpc.DialOption
	calls    []credentials.PerRPCCredentials
	tls      []composite.TLSOption
	tlsSet   []string // the TLS options given, by name, for refusing them with WithInsecureLoopback
	logger   *slog.Logger
	loopback bool
	retry    *bool
	engine   []tokensource.Option
	lazy     bool
	users    *tokensource.PerUser
}

type (
	sourceOpt func(*options)
	tokenOpt  func(*options)
	tlsOpt    func(*options)
	allOpt    func(*options)
)

func (f sourceOpt) applySource(o *options) { f(o) }
func (f tokenOpt) applySource(o *options)  { f(o) }
func (f tokenOpt) applyToken(o *options)   { f(o) }
func (f tlsOpt) applySource(o *options)    { f(o) }
func (f tlsOpt) applyToken(o *options)     { f(o) }
func (f tlsOpt) applyTLS(o *options)       { f(o) }
func (f allOpt) applySource(o *options)    { f(o) }
func (f allOpt) applyToken(o *options)     { f(o) }
func (f allOpt) applyTLS(o *options)       { f(o) }
func (f allOpt) applyAll(o *options)       { f(o) }

// WithDialOptions adds gRPC dial options, for example interceptors, keepalive
// or a service config. Transport credentials and per-RPC credentials given
// here do not replace the connection's own (grpc.WithTransportCredentials,
// grpc.WithCredentialsBundle); add call credentials with [WithCallCredentials].
func WithDialOptions(opts ...grpc.DialOption) Option {
	return allOpt(func(o *options) { o.dial = append(o.dial, opts...) })
}

// WithCallCredentials adds call credentials of any kind (an API key, a
// metadata plugin) to every call, after the connection's own token if it has
// one. Two credentials that set the same metadata key fail the call with
// Internal rather than send the key twice (see composite.Call). Over
// [Insecure], credentials that require transport security are refused by
// gRPC; build them with creds.AllowInsecureLoopback for a local server.
func WithCallCredentials(calls ...credentials.PerRPCCredentials) Option {
	return allOpt(func(o *options) { o.calls = append(o.calls, calls...) })
}

// WithClientCertificate presents a client certificate for mTLS.
func WithClientCertificate(certPEM, keyPEM []byte) TLSOption {
	return tlsOpt(func(o *options) {
		o.tls = append(o.tls, composite.WithClientCertificate(certPEM, keyPEM))
		o.tlsSet = append(o.tlsSet, "WithClientCertificate")
	})
}

// WithServerName overrides the name checked against the server's certificate.
func WithServerName(name string) TLSOption {
	return tlsOpt(func(o *options) {
		o.tls = append(o.tls, composite.WithServerName(name))
		o.tlsSet = append(o.tlsSet, "WithServerName")
	})
}

// WithTLSOptions adds options of composite.TLS: certificate and root files
// that are read again while the connection runs (composite.WithClientCertificateFiles,
// composite.WithRootsFile, give rootPEM nil with it), how often
// (composite.WithReload, every minute by default), a certificate provider,
// and an observer of the changes (composite.WithTLSObserver; without one,
// [WithLogger] logs them). Close stops the rereading. See also
// [Connection.UpdateClientCertificate] and [Connection.UpdateRootCAs].
func WithTLSOptions(opts ...composite.TLSOption) TLSOption {
	return tlsOpt(func(o *options) {
		o.tls = append(o.tls, opts...)
		o.tlsSet = append(o.tlsSet, "WithTLSOptions")
	})
}

// WithInsecureLoopback dials without TLS. It is refused unless the target is
// on 127.0.0.0/8, ::1, localhost or a Unix socket, and tokens are still only
// sent to a loopback peer (see composite.InsecureLoopback). Combined with a
// TLS setting (WithClientCertificate, WithServerName, WithTLSOptions) it is
// an error. It is
// for local development only.
func WithInsecureLoopback() TLSOption { return tlsOpt(func(o *options) { o.loopback = true }) }

// WithLogger logs the connection's token events to l, never token text: for
// [WithExternalAccessToken], each update applied or refused; for
// [WithTokenSource], the events of the refresh engine it builds (see
// tokensource.WithLogger). It also logs each change of TLS material, applied
// or refused, unless [WithTLSOptions] sets an observer of its own.
func WithLogger(l *slog.Logger) TokenOption { return tokenOpt(func(o *options) { o.logger = l }) }

// WithLazyStart keeps the connection idle until its first call: by default
// [WithExternalAccessToken] and [WithTokenSource] start connecting when they
// return, and WithTokenSource also starts the first token fetch, so that the
// first call waits for the slower of the two rather than both in turn. With
// this option the first call connects, then fetches, as gRPC does on its own.
// Use it for a connection that may never be used, or whose first token
// should not be asked for until it is needed. (A source that signs a person
// in is never asked early; see [WithTokenSource].)
func WithLazyStart() TokenOption { return tokenOpt(func(o *options) { o.lazy = true }) }

// WithRetryOnUnauthenticated sets whether a unary call that ends with
// Unauthenticated is resent once with a fresh token (default on). It
// concerns the tokens a connection can replace: those of [WithTokenSource]'s
// refresh engine and the users' tokens of [WithOnBehalfOf]. Set to true on a
// connection that has neither, it is refused, since it would do nothing: a
// *tokensource.External's token only the application replaces.
//
// A call is resent only when all of these hold: it is unary (a stream is
// never resent); the connection's credential sent a token from the refresh
// engine on it, or a user's token from [Connection.OnBehalfOf] (not one set
// with [Connection.WithToken]; a call refused before that sent none); the
// call ended with Unauthenticated; the caller's context is still live; the
// engine that served the token accepts the invalidation (invalidations are
// rate-limited on the backoff schedule); and a token newer than the
// rejected one arrives before the caller's deadline. It is resent at most
// once. If no newer token can be had, the first answer is returned; if the
// caller's deadline passes while waiting for one, DeadlineExceeded is.
//
// This is safe when Unauthenticated comes from an authentication layer that
// runs before the handler, as a server interceptor such as serverauth's
// does: the handler never saw the first attempt. A handler that answers
// Unauthenticated itself after doing work would see the call twice; mark
// such calls with [NoRetryOnUnauthenticated], or turn the retry off here.
// One Unauthenticated does not come from the server at all: another call
// credential that refuses the call after this connection's token was
// written. The call is then resent once too, at the cost of one token
// request; the server saw neither attempt.
func WithRetryOnUnauthenticated(on bool) Option {
	return allOpt(func(o *options) { o.retry = &on })
}

// WithRefreshOptions configures the refresh engine that [WithTokenSource]
// builds around its source.
func WithRefreshOptions(opts ...tokensource.Option) SourceOption {
	return sourceOpt(func(o *options) { o.engine = append(o.engine, opts...) })
}

// collect applies opts, each through apply, the method of the option type
// the constructor accepts.
func collect[T any](opts []T, apply func(T, *options)) options {
	var o options
	for _, f := range opts {
		apply(f, &o)
	}
	return o
}

// WithOnBehalfOf lets calls on the connection carry a token for the user of
// an incoming call, from users (see [Connection.OnBehalfOf]): for a
// middle-tier service calling this target on behalf of its callers. Make
// users for this target's audience only, since its tokens go nowhere else.
// The connection takes users over and closes it on Close; if the
// constructor fails, users stays the caller's. Give each connection its own
// users: one shared by two connections stops working for both when the
// first is closed.
func WithOnBehalfOf(users *tokensource.PerUser) Option {
	return allOpt(func(o *options) { o.users = users })
}
