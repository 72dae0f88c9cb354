package azure_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// App-only tokens with a client secret, on a connection that puts the
// refresh engine in front of the source and closes it on Close.
func ExampleClientSecret() {
	src, err := azure.ClientSecret{
		TenantID: "00000000-0000-0000-0000-000000000000",
		ClientID: "11111111-1111-1111-1111-111111111111",
		Secret:   os.Getenv("TRADING_BOT_SECRET"), // from a secret store
		Scopes:   []string{"api://energy-trading/.default"},
	}.TokenSource()
	if err != nil {
		panic(err)
	}
	conn, err := connection.WithTokenSource("trading.example.com:443", nil, src,
		connection.WithLogger(slog.Default()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	_ = conn // pass to a generated client: pb.NewTraderClient(conn)
}

// Kubernetes workload identity: the tenant, client and federated token file
// come from the environment the Azure webhook injects. Here the engine is
// built by hand, for a use other than a connection.
func ExampleWorkloadIdentity() {
	src, err := azure.WorkloadIdentity{Scopes: []string{"api://energy-trading/.default"}}.TokenSource()
	if err != nil {
		return // not running under workload identity
	}
	ts, err := tokensource.Refreshing(src, tokensource.WithLogger(slog.Default()))
	if err != nil {
		panic(err)
	}
	defer ts.Close()
	tok, err := ts.TokenContext(context.Background())
	_, _ = tok, err
}

// A command-line tool whose user signs in in the default browser.
func ExampleInteractiveBrowser() {
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"))
	if err != nil {
		panic(err)
	}
	src, err := azure.InteractiveBrowser{Client: client, Scopes: []string{"api://energy-trading/.default"},
		Options: []public.AcquireInteractiveOption{public.WithLoginHint("ada@contoso.example")}}.TokenSource()
	if err != nil {
		panic(err)
	}
	conn, err := connection.WithTokenSource("trading.example.com:443", nil, src)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
}
