// Command client calls a gRPC API protected by Azure AD (Entra ID), e.g.
// ../../jwt-interceptor/server, with app-only tokens from MSAL: either the
// client-credentials flow with a secret, or the default chain (environment,
// workload identity, managed identity, az, azd) that suits a program running
// both on a laptop and on Azure. The refresh engine of connection.WithTokenSource
// keeps the token fresh, and concurrent calls on a cold connection share one
// token request.
//
//	export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
//	client -addr api.example.com:443 -scope api://my-api/.default                # default chain
//	client -addr api.example.com:443 -scope api://my-api/.default -credential secret
//
// AZURE_AUTHORITY_HOST changes the authority (default login.microsoftonline.com).
// It exits 1 if a call fails, printing its status code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "", "PEM file of roots for the server's certificate (default: system roots)")
	scope := flag.String("scope", "", "scope to get tokens for, e.g. api://my-api/.default (required)")
	credential := flag.String("credential", "default", `"default" (the chain) or "secret" (AZURE_CLIENT_SECRET)`)
	noDiscovery := flag.Bool("disable-instance-discovery", false, "for an authority Azure AD does not know (Azure Stack, a private cloud)")
	calls := flag.Int("calls", 1, "number of concurrent calls")
	verbose := flag.Bool("v", false, "log token events (never token text) to stderr")
	flag.Parse()
	var msal []confidential.Option
	if *noDiscovery {
		msal = append(msal, confidential.WithInstanceDiscovery(false))
	}
	if err := run(*addr, *ca, *scope, *credential, msal, *calls, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, scope, credential string, msal []confidential.Option, calls int, verbose bool) error {
	if scope == "" {
		return errors.New("-scope is required, e.g. api://my-api/.default")
	}
	if calls < 1 {
		return errors.New("-calls must be at least 1")
	}
	var src tokensource.ContextTokenSource
	var err error
	switch credential {
	case "default":
		src, err = azure.Default{Scope: scope, MSAL: msal}.TokenSource()
	case "secret":
		src, err = azure.ClientSecret{TenantID: os.Getenv("AZURE_TENANT_ID"), ClientID: os.Getenv("AZURE_CLIENT_ID"),
			Secret: os.Getenv("AZURE_CLIENT_SECRET"), AuthorityHost: os.Getenv("AZURE_AUTHORITY_HOST"),
			Scopes: []string{scope}, MSAL: msal}.TokenSource()
	default:
		err = errors.New(`-credential must be "default" or "secret"`)
	}
	if err != nil {
		return err
	}
	var rootPEM []byte // nil: the system roots
	if ca != "" {
		if rootPEM, err = os.ReadFile(ca); err != nil {
			return err
		}
	}
	var opts []connection.SourceOption
	if verbose {
		opts = append(opts, connection.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	conn, err := connection.WithTokenSource(addr, rootPEM, src, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	health := healthpb.NewHealthClient(conn)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { _, errs[i] = health.Check(ctx, &healthpb.HealthCheckRequest{}) })
	}
	wg.Wait()
	var failed error
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if failed == nil {
			failed = err
		}
	}
	fmt.Printf("%d of %d calls OK\n", ok, calls)
	if failed != nil {
		return fmt.Errorf("check: %s: %s", status.Code(failed), status.Convert(failed).Message())
	}
	if c, err := conn.Claims(ctx); err == nil { // unverified: for display only
		fmt.Printf("acting as %v (oid %v, roles %v)\n", c["name"], c["oid"], c.Roles())
	}
	return nil
}
