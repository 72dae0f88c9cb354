package creds

import (
	"context"
	"fmt"
	"strings"

	"github.com/grpccreds/grpccreds/internal/header"
)

// APIKey is a credentials.PerRPCCredentials that sends a fixed key in a fixed
// header, for example the raw "authorization: <key>" an API gateway checks or
// an "x-api-key" header. Create it with [NewAPIKey]; the zero value is not
// usable.
type APIKey struct {
	md   map[string]string
	opts options
}

// NewAPIKey returns credentials that send key in header (lowercased). The key
// must be visible ASCII with no spaces or control characters.
func NewAPIKey(headerName, key string, opts ...Option) (*APIKey, error) {
	h := strings.ToLower(headerName)
	if err := header.CheckKey(h); err != nil {
		return nil, fmt.Errorf("creds: api key header: %v", err)
	}
	if err := header.CheckValue(key); err != nil {
		return nil, fmt.Errorf("creds: api key %v", err)
	}
	return &APIKey{md: map[string]string{h: key}, opts: newOptions(opts)}, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (a *APIKey) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if err := checkTransport(ctx, a.opts.allowLoopback); err != nil {
		return nil, err
	}
	return a.md, nil
}

// RequireTransportSecurity is true unless [AllowInsecureLoopback] was given.
func (a *APIKey) RequireTransportSecurity() bool { return !a.opts.allowLoopback }

// String describes the credentials without the key.
func (a *APIKey) String() string {
	for h := range a.md {
		return fmt.Sprintf("creds.APIKey{header: %s}", h)
	}
	return "creds.APIKey{}"
}

// GoString is String, so %#v cannot print the key either.
func (a *APIKey) GoString() string { return a.String() }
