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
// plaintext connection, but only when the peer is 127.0.0.0/8, ::1 or a Unix
// socket; any other insecure peer is still refused, call by call. It is meant
// for local development against a server without TLS.
func AllowInsecureLoopback() Option { return func(o *options) { o.allowLoopback = true } }

// WithHeader sets the metadata key a [Bearer] writes (default
// "authorization"). It is lowercased.
func WithHeader(name string) Option { return func(o *options) { o.header = name } }

// WithScheme sets the scheme a [Bearer] puts before the token (default
// "Bearer"). An empty scheme sends the raw token, as an API gateway expecting
// "Authorization: <key>" wants.
func WithScheme(scheme string) Option { return func(o *options) { o.scheme = scheme } }
