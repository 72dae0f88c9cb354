package composite_test

import (
	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"google.golang.org/grpc"
)

// TLS plus two call credentials in one bundle, as gRPC Python's
// composite_channel_credentials(ssl_channel_credentials(...), call_creds...).
func ExampleChannel() {
	var caPEM []byte // nil: trust the system roots
	tc, err := composite.TLS(caPEM, composite.WithServerName("api.example.com"))
	if err != nil {
		panic(err)
	}
	key, _ := creds.NewAPIKey("x-api-key", "my-key")
	conn, err := grpc.NewClient("api.example.com:443", grpc.WithCredentialsBundle(composite.Channel(tc, key)))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
}
