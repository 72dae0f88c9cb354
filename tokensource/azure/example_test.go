package azure_test

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// Azure AD app-only tokens through MSAL, behind the refresh engine.
func ExampleApp_ClientSecret() {
	ts, err := azure.App{
		TenantID: "00000000-0000-0000-0000-000000000000",
		ClientID: "11111111-1111-1111-1111-111111111111",
		Scopes:   []string{"api://energy-trading/.default"},
	}.ClientSecret("from-a-secret-store")
	if err != nil {
		panic(err)
	}
	defer ts.Close()
	_ = ts // pass to connection.WithTokenSource or creds.NewBearer
}

// Kubernetes workload identity: the tenant, client and federated token file
// come from the environment the Azure webhook injects.
func ExampleApp_WorkloadIdentity() {
	ts, err := azure.App{Scopes: []string{"api://energy-trading/.default"}}.WorkloadIdentity()
	if err != nil {
		return // not running under workload identity
	}
	defer ts.Close()
}

// A command-line tool whose user signs in in the default browser.
func ExampleInteractiveBrowser() {
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"))
	if err != nil {
		panic(err)
	}
	ts := azure.InteractiveBrowser(client, []string{"api://energy-trading/.default"},
		[]public.AcquireInteractiveOption{public.WithLoginHint("ada@contoso.example")})
	defer ts.Close()
	_ = ts // pass to connection.WithTokenSource or creds.NewBearer
}

// The same tool, asking its user to sign in once across runs: MSAL's cache
// is kept in a file only the user can read (not encrypted).
func ExamplePersistentCache() {
	dir, err := os.UserCacheDir()
	if err != nil {
		panic(err)
	}
	store := azure.FileStore(filepath.Join(dir, "energy-trading-cli", "msal_token_cache.json"))
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"),
		public.WithCache(azure.PersistentCache(store, slog.Default())))
	if err != nil {
		panic(err)
	}
	ts := azure.InteractiveBrowser(client, []string{"api://energy-trading/.default"}, nil)
	defer ts.Close()
}
