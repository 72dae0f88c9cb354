// Command custom-plugin is the gRPC Python authentication example in Go: a
// client-side metadata plugin signs each call with an x-signature header (the
// method name reversed), the credentials are composed with TLS into one
// channel credential, and a server interceptor checks the signature.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "example failed:", err)
		os.Exit(1)
	}
	fmt.Println("example passed")
}

// signature is the example's scheme: the full method name, reversed.
func signature(method string) string {
	b := []byte(method)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// checkSignature is the server's interceptor logic.
func checkSignature(ctx context.Context, method string, md metadata.MD) (context.Context, error) {
	if sig := md.Get("x-signature"); len(sig) != 1 || sig[0] != signature(method) {
		return nil, status.Error(codes.Unauthenticated, "invalid x-signature")
	}
	return ctx, nil
}

func run() error {
	v := serverauth.NewValidator(checkSignature)
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Options: []grpc.ServerOption{grpc.UnaryInterceptor(v.UnaryServerInterceptor())}})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("TLS gRPC server with a signature-checking interceptor on", srv.Addr)

	good := creds.NewPlugin(func(_ context.Context, info creds.RequestInfo) (map[string]string, error) {
		return map[string]string{"x-signature": signature(info.Method)}, nil
	})
	bad := creds.NewPlugin(func(context.Context, creds.RequestInfo) (map[string]string, error) {
		return map[string]string{"x-signature": "not-the-signature"}, nil
	})
	goodConn, err := dial(srv, good)
	if err != nil {
		return err
	}
	defer goodConn.Close()
	badConn, err := dial(srv, bad)
	if err != nil {
		return err
	}
	defer badConn.Close()
	return inOrder(
		func() error {
			return expect("call signed by the plugin", codes.OK, grpccredstest.HealthCheck(context.Background(), goodConn))
		},
		func() error {
			return expect("call with a wrong signature", codes.Unauthenticated, grpccredstest.HealthCheck(context.Background(), badConn))
		},
	)
}

// dial composes TLS and the plugin into one channel credential, as gRPC
// Python's composite_channel_credentials does.
func dial(srv *grpccredstest.Server, plugin *creds.Plugin) (*grpc.ClientConn, error) {
	tc, err := composite.TLS(srv.CA.PEM)
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(srv.Addr, grpc.WithCredentialsBundle(composite.Channel(tc, plugin)))
}
