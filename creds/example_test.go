package creds_test

import (
	"context"
	"log"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Bearer tokens from a refreshing source on every call.
func ExampleNewBearer() {
	ts, err := tokensource.Refreshing(tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "token", Expiry: time.Now().Add(time.Hour)}, nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close()
	conn, err := grpc.NewClient("api.example.com:443",
		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
		grpc.WithPerRPCCredentials(creds.NewBearer(ts)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}

// A raw "authorization: <key>" header, as some API gateways expect.
func ExampleNewAPIKey() {
	key, err := creds.NewAPIKey("authorization", "my-gateway-key")
	if err != nil {
		log.Fatal(err)
	}
	_ = grpc.WithPerRPCCredentials(key)
}

// A plugin that signs each method, like gRPC Python's AuthMetadataPlugin.
func ExampleNewPlugin() {
	sign := creds.NewPlugin(func(ctx context.Context, info creds.RequestInfo) (map[string]string, error) {
		return map[string]string{"x-signature": strings.ToUpper(info.Method)}, nil
	})
	_ = grpc.WithPerRPCCredentials(sign)
}

// One call on behalf of another identity, through the same credential so only
// one authorization header is sent.
// The token is bound to this Bearer: a call through another credential, on
// another connection, does not carry it even with the same context.
func ExampleBearer_WithToken() {
	bearer := creds.NewBearer(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "service-token"}))
	ctx := bearer.WithToken(context.Background(), "token-for-this-call")
	_ = ctx // pass to the generated client's method on the connection using bearer
}

// Local development against a server without TLS. The token is sent only if
// the handshake finds the connection really ends on this machine; through a
// proxy to a remote host every call fails with Unauthenticated instead.
func ExampleAllowInsecureLoopback() {
	bearer := creds.NewBearer(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "dev-token"}), creds.AllowInsecureLoopback())
	conn, err := grpc.NewClient("127.0.0.1:50051",
		grpc.WithTransportCredentials(composite.InsecureLoopback()),
		grpc.WithPerRPCCredentials(bearer))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}
