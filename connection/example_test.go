package connection_test

import (
	"context"
	"fmt"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2/clientcredentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A token obtained elsewhere, swapped at runtime on the same
// channel.
func ExampleWithExternalAccessToken() {
	var caPEM []byte // the server's CA, or nil for the system roots
	conn, err := connection.WithExternalAccessToken("api.example.com:443", caPEM, "token-from-elsewhere")
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn) // any generated client
	_ = client
	if err := conn.UpdateAccessToken("a b"); err != nil {
		fmt.Println(err) // the old token stays in force
	}
	// Output: tokensource: invalid token: token contains a space at offset 1
}

// A refreshing source: tokens are kept fresh in the background.
func ExampleWithTokenSource() {
	cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: "secret", TokenURL: "https://idp.example.com/token"}
	conn, err := connection.WithTokenSource("api.example.com:443", nil,
		tokensource.ClientCredentials(context.Background(), cfg))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
}

// A service that calls two others on behalf of its caller: the caller's token
// goes to the orders service only, however far the context travels.
func ExampleConnection_WithToken() {
	orders, err := connection.WithTLS("orders.example.com:443", nil)
	if err != nil {
		panic(err)
	}
	defer orders.Close()
	audit, err := connection.WithTLS("audit.example.com:443", nil)
	if err != nil {
		panic(err)
	}
	defer audit.Close()

	ctx := orders.WithToken(context.Background(), "the-caller's-token")
	_ = healthpb.NewHealthClient(orders) // calls with ctx carry the caller's token
	_ = healthpb.NewHealthClient(audit)  // calls with ctx carry none
	_ = ctx
}

// A call whose handler may itself answer Unauthenticated after doing work is
// not resent.
func ExampleNoRetryOnUnauthenticated() {
	conn, err := connection.WithTLS("api.example.com:443", nil)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{},
		connection.NoRetryOnUnauthenticated())
	_ = err
}
