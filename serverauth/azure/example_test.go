package azure_test

import (
	"fmt"
	"log"

	"github.com/grpccreds/grpccreds/serverauth"
	azureauth "github.com/grpccreds/grpccreds/serverauth/azure"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A gRPC server for an API registered in Azure AD, accepting its v1.0 and
// v2.0 access tokens: Traders (an app role, for applications or assigned
// users) may call every Orders method, and a user's client granted the
// delegated scope Orders.Read may list orders.
func Example() {
	issuers, err := azureauth.API{
		TenantID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", // Directory (tenant) ID
		ClientID: "0b8f5c3e-6d2a-4f1b-9c7e-2a4d6f8b0c1e", // the API's Application (client) ID
		AppIDURI: "api://energy-trading",                 // its Application ID URI
	}.Issuers()
	if err != nil {
		log.Fatal(err)
	}
	v, err := serverauth.NewVerifier(serverauth.Config{
		Issuers:        issuers,
		RequiredClaims: []string{"oid"},
		MethodRoles:    map[string][]string{"/trading.v1.Orders/*": {"Trader"}},
		MethodScopes:   map[string][]string{"/trading.v1.Orders/List": {"Orders.Read"}},
		Skip:           []string{"/grpc.health.v1.Health/Check"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	srv := grpc.NewServer(grpc.UnaryInterceptor(v.UnaryServerInterceptor()), grpc.StreamInterceptor(v.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	// … register trading.v1.Orders, then, before Serve:
	if err := v.CheckMethods(srv); err != nil {
		log.Fatal(err)
	}
}

// The issuers of a single-tenant API: one for v1.0 tokens, one for v2.0.
func ExampleAPI_Issuers() {
	issuers, err := azureauth.API{
		TenantID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
		ClientID: "0b8f5c3e-6d2a-4f1b-9c7e-2a4d6f8b0c1e",
		AppIDURI: "api://energy-trading",
	}.Issuers()
	if err != nil {
		log.Fatal(err)
	}
	for _, is := range issuers {
		fmt.Println(is.URL, is.Audiences, "ver", is.Claims["ver"])
	}
	fmt.Println("keys:", issuers[0].JWKSURL)
	// Output:
	// https://sts.windows.net/3f2504e0-4f89-41d3-9a0c-0305e82c3301/ [0b8f5c3e-6d2a-4f1b-9c7e-2a4d6f8b0c1e api://energy-trading] ver 1.0
	// https://login.microsoftonline.com/3f2504e0-4f89-41d3-9a0c-0305e82c3301/v2.0 [0b8f5c3e-6d2a-4f1b-9c7e-2a4d6f8b0c1e api://energy-trading] ver 2.0
	// keys: https://login.microsoftonline.com/3f2504e0-4f89-41d3-9a0c-0305e82c3301/discovery/v2.0/keys
}
