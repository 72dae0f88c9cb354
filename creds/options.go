package creds

// BearerOption configures a [Bearer]. Every [Option] is one too.
type BearerOption interface {
	applyBearer(*options)
}

// Option configures any credential of this package: [Bearer], [APIKey] and
// [Plugin].
type Option interface {
	BearerOption
	apply(*options)
}

type options struct {
	header        string
	scheme        string
	allowLoopback bool
}

type bearerOption func(*options)

func (f bearerOption) applyBearer(o *options) { f(o) }

type anyOption func(*options)

func (f anyOption) applyBearer(o *options) { f(o) }
func (f anyOption) apply(o *options)       { f(o) }

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f.apply(&o)
	}
	return o
}

func newBearerOptions(opts []BearerOption) options {
	o := options{header: "authorization", scheme: "Bearer"}
	for _, f := range opts {
		f.applyBearer(&o)
	}
	return o
}

// AllowInsecureLoopback lets the credential send its metadata over a
// plaintext connection made with composite.InsecureLoopback transport
// credentials whose handshake found that the connection ends on this machine:
// a loopback target reached directly, or a Unix socket. Any other plaintext
// connection is still refused, call by call, with Unauthenticated naming the
// reason; that includes insecure.NewCredentials connections, whose peer
// address cannot tell a local server from a local proxy to a remote one. It
// is meant for local development against a server without TLS.
func AllowInsecureLoopback() Option { return anyOption(func(o *options) { o.allowLoopback = true }) }

// WithHeader sets the metadata key a [Bearer] writes (default
// "authorization"). It is lowercased.
func WithHeader(name string) BearerOption { return bearerOption(func(o *options) { o.header = name }) }

// WithScheme sets the scheme a [Bearer] puts before the token (default
// "Bearer"). An empty scheme sends the raw token, as an API gateway expecting
// "Authorization: <key>" wants.
func WithScheme(scheme string) BearerOption {
	return bearerOption(func(o *options) { o.scheme = scheme })
}
