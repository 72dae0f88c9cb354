package suite

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// The Azure sources added for managed identity, the CLIs and the default
// chain leak nothing either: not the App Service identity header, not a
// token, not what a CLI printed, not the environment's client secret.
func TestAzureSourcesLeakNothing(t *testing.T) {
	ev := &evidence{}
	logger := slog.New(slog.NewTextHandler(ev, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := []tokensource.Option{tokensource.WithLogger(logger), tokensource.WithObserver(func(e tokensource.Event) { ev.add(e, e.Err) })}
	idp := grpccredstest.NewIdentityProvider(t, tenant, "api://grpccreds")
	azuretest.AddManagedIdentity(idp, azuretest.ManagedIdentity{Identity: grpccredstest.Identity{Name: "vm", OID: "o-vm"}})
	secrets := []string{azuretest.AppServiceHeader, secret}

	// Managed identity (App Service, reached through its environment):
	// success, then the endpoint failing in each way.
	t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(idp)+"/msi/token")
	t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
	// MSAL caches managed-identity tokens per process: each engine gets a
	// resource no other test or run (-count) has used.
	run := time.Now().UnixNano()
	src, err := azure.ManagedIdentity{Scope: fmt.Sprintf("api://secrets-%d/.default", run)}.TokenSource()
	ev.add(err, src)
	mi := enginetest.Engine(t, src, opts...)
	tok, err := mi.Token()
	ev.add(err, mi)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok.AccessToken)
	mi.Close()
	for i, m := range []grpccredstest.Mode{grpccredstest.InvalidClient, grpccredstest.Fail500, grpccredstest.Garbage, grpccredstest.Fail429} {
		idp.SetMode(m) // a fresh engine and resource each time: MSAL caches managed-identity tokens per process
		src, err := azure.ManagedIdentity{Scope: fmt.Sprintf("api://mode-%d-%d/.default", run, i)}.TokenSource()
		ev.add(err, src)
		r := enginetest.Engine(t, src, opts...)
		_, err = r.Token()
		ev.add(err, r)
		r.Close()
	}
	idp.SetMode(grpccredstest.Healthy)
	t.Setenv("IDENTITY_ENDPOINT", "")
	t.Setenv("IDENTITY_HEADER", "")

	// The Azure CLI: a token, then a failure whose stderr quotes a secret.
	const cliSecret = "cli-stderr-secret-marker-2b8f"
	secrets = append(secrets, cliSecret, "az-token-marker-6d0e")
	bin := t.TempDir()
	t.Setenv("PATH", bin)
	script := filepath.Join(bin, "az")
	os.WriteFile(script, []byte("#!/bin/sh\necho '{\"accessToken\": \"az-token-marker-6d0e\", \"expires_on\": 4102444800}'\n"), 0o755)
	src, err = azure.AzureCLI{Scope: "api://grpccreds/.default"}.TokenSource()
	ev.add(err, src)
	cli := enginetest.Engine(t, src, opts...)
	_, err = cli.Token()
	ev.add(err, cli)
	os.WriteFile(script, []byte("#!/bin/sh\necho 'ERROR: AADSTS7000215 client_secret="+cliSecret+"' >&2\nexit 1\n"), 0o755)
	gen, _ := engine.Of(cli)
	gen.Invalidate(gen.Generation())
	_, _, err = gen.TokenGeneration(t.Context(), gen.Generation())
	ev.add(err)
	cli.Close()

	// The default chain stopping at a wrong secret from the environment.
	hc := idp.HTTPClient()
	defer hc.CloseIdleConnections()
	for k, v := range map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": "no-such-app",
		"AZURE_CLIENT_SECRET": secret, "AZURE_AUTHORITY_HOST": idp.URL} {
		t.Setenv(k, v)
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "") // restored when the test ends
	os.Unsetenv("AZURE_TOKEN_CREDENTIALS")  // unset, not empty: an empty value is refused, as azidentity does
	// The chain stops before the managed identity; should it ever get there,
	// its client may only dial loopback.
	loopbackOnly := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", azuretest.ManagedIdentityAddr(idp))
	}}}
	src, err = azure.Default{Scope: "api://grpccreds/.default", HTTPClient: hc, ManagedIdentityHTTPClient: loopbackOnly,
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)}}.TokenSource()
	ev.add(err, src)
	chain := enginetest.Engine(t, src, opts...)
	_, err = chain.Token()
	ev.add(err, chain)
	chain.Close()

	out := ev.all()
	for _, sec := range secrets {
		if strings.Contains(out, sec) {
			i := strings.Index(out, sec)
			t.Fatalf("a secret leaked near: %q", out[max(0, i-120):i])
		}
	}
	for _, want := range []string{"HTTP 401", "HTTP 500", "Azure CLI (az) failed", "Default stopped at EnvironmentCredential"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the failure paths were not exercised (no %q):\n%s", want, out)
		}
	}
}
