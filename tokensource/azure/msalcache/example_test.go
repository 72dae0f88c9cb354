package msalcache_test

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
)

// A command-line tool that asks its user to sign in once across runs:
// MSAL's cache is kept in a file only the user can read (not encrypted).
func ExamplePersistent() {
	dir, err := os.UserCacheDir()
	if err != nil {
		panic(err)
	}
	store := msalcache.FileStore(filepath.Join(dir, "energy-trading-cli", "msal_token_cache.json"))
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000"),
		public.WithCache(msalcache.Persistent(store, slog.Default())))
	if err != nil {
		panic(err)
	}
	src, err := azure.InteractiveBrowser{Client: client, Scopes: []string{"api://energy-trading/.default"}}.TokenSource()
	if err != nil {
		panic(err)
	}
	_ = src // pass to connection.WithTokenSource
}
