package creds

import (
	"context"

	"github.com/grpccreds/grpccreds/internal/header"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// RequestInfo describes the call a [PluginFunc] is asked to authorise.
type RequestInfo struct {
	// Method is the full method name, e.g. "/helloworld.Greeter/SayHello".
	Method string
	// URI is the service URI gRPC computed, e.g. "https://host/helloworld.Greeter".
	URI string
	// SecurityLevel is the connection's security level.
	SecurityLevel credentials.SecurityLevel
	// AuthInfo is the connection's handshake information.
	AuthInfo credentials.AuthInfo
}

// PluginFunc returns the metadata for one call. It is gRPC Python's
// AuthMetadataPlugin in Go. Return a status error to choose the call's code;
// any other error fails the call with Unauthenticated and the error's text,
// so keep secrets out of it.
type PluginFunc func(ctx context.Context, info RequestInfo) (map[string]string, error)

// Plugin is a credentials.PerRPCCredentials that calls a [PluginFunc] for every
// call, for schemes that sign each request (for example a per-method
// x-signature). Create it with [NewPlugin]; the zero value is not usable.
type Plugin struct {
	fn   PluginFunc
	opts options
}

// NewPlugin returns credentials that call fn for every call.
func NewPlugin(fn PluginFunc, opts ...Option) *Plugin {
	return &Plugin{fn: fn, opts: newOptions(opts)}
}

// GetRequestMetadata implements credentials.PerRPCCredentials. The keys fn
// returns must be lowercase legal metadata keys, and values of non-binary keys
// printable ASCII; otherwise the call fails with Internal.
func (p *Plugin) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	if err := checkTransport(ctx, p.opts.allowLoopback); err != nil {
		return nil, err
	}
	ri, _ := credentials.RequestInfoFromContext(ctx)
	info := RequestInfo{Method: ri.Method, AuthInfo: ri.AuthInfo, SecurityLevel: securityLevel(ri.AuthInfo)}
	if len(uri) > 0 {
		info.URI = uri[0]
	}
	md, err := p.fn(ctx, info)
	if err != nil {
		return nil, pluginError(ctx, err)
	}
	return md, checkMetadata(md)
}

// RequireTransportSecurity is true unless [AllowInsecureLoopback] was given.
func (p *Plugin) RequireTransportSecurity() bool { return !p.opts.allowLoopback }

// String describes the plugin.
func (p *Plugin) String() string { return "creds.Plugin" }

// GoString is String.
func (p *Plugin) GoString() string { return p.String() }

func pluginError(ctx context.Context, err error) error {
	if _, ok := status.FromError(err); ok || ctx.Err() != nil {
		return toStatus(ctx, err)
	}
	return status.Errorf(codes.Unauthenticated, "creds: metadata plugin failed: %v", err)
}

func checkMetadata(md map[string]string) error {
	for k, v := range md {
		if err := header.CheckKey(k); err != nil {
			return status.Errorf(codes.Internal, "creds: metadata plugin: %v", err)
		}
		if header.IsBinary(k) {
			continue
		}
		if err := header.CheckText(v); err != nil {
			return status.Errorf(codes.Internal, "creds: metadata plugin: value of %q %v", k, err)
		}
	}
	return nil
}
