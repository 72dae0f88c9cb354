package creds

// Option configures the credentials of this package.
type Option func(*options)

type options struct {
	header        string
	scheme        string
	allowLoopback bool
}

func newOptions(opts []Option) options {
	o := options{header: "authorization", scheme: "Bearer"}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// AllowInsecureLoopback lets the credential send its metadata over a
// plaintext connection made with [InsecureLoopback] transport credentials
// whose handshake found that the connection ends on this machine: a loopback
// target reached directly, or a Unix socket. Any other plaintext connection
// is still refused, call by call, with Unauthenticated naming the reason;
// that includes insecure.NewCredentials connections, whose peer address
// cannot tell a local server from a local proxy to a remote one. It is meant
// for local development against a server without TLS.
func AllowInsecureLoopback() Option { return func(o *options) { o.allowLoopback = true } }

// WithHeader sets the metadata key a [Bearer] writes (default
// "authorization"). It is lowercased.
func WithHeader(name string) Option { return func(o *options) { o.header = name } }

// WithScheme sets the scheme a [Bearer] puts before the token (default
// "Bearer"). An empty scheme sends the raw token, as an API gateway expecting
// "Authorization: <key>" wants.
func WithScheme(scheme string) Option { return func(o *options) { o.scheme = scheme } }
