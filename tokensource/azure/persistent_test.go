package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
)

// cacheFile is a path for the token cache in a directory not made yet.
func cacheFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "grpccreds", "msal_token_cache.json")
}

// logged is a logger that writes text lines to a buffer.
func logged() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// browserRun is one run of a command-line tool that signs in in the
// browser, keeping MSAL's cache in the file at path: it gets one token and
// exits. It returns the browser, so the test can see whether it was opened.
func browserRun(t *testing.T, s *grpccredstest.IdentityProvider, path string, logger *slog.Logger) *browser {
	t.Helper()
	b := newBrowser(t, s)
	client := publicClient(t, s, public.WithCache(msalcache.Persistent(msalcache.FileStore(path), logger)))
	r := refresher(t, azure.InteractiveBrowser{Client: client, Scopes: userScopes, Options: b.login()})
	defer r.Close() // one run of a tool: it exits after its token
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if claims, _ := jwtpeek.Claims(tok.AccessToken); claims["name"] != azuretest.User().Name {
		t.Fatalf("token for %v, want %s", claims["name"], azuretest.User().Name)
	}
	return b
}

// The second run finds the first run's sign-in in the file: it neither opens
// the browser nor asks the authority for anything.
func TestPersistentCacheBrowserSignInOnceAcrossRuns(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	logger, logs := logged()
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 1 {
		t.Fatalf("first run opened the browser %d times, want 1", len(b.Opened()))
	}
	requests := s.TokenRequests()
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 0 {
		t.Fatalf("second run opened the browser %d times, want 0", len(b.Opened()))
	}
	if azuretest.AuthorizeRequests(s) != 1 || azuretest.DeviceCodeRequests(s) != 0 || s.TokenRequests() != requests {
		t.Fatalf("authorize requests %d, device-code %d, token requests by the second run %d; want 1, 0, 0",
			azuretest.AuthorizeRequests(s), azuretest.DeviceCodeRequests(s), s.TokenRequests()-requests)
	}
	for file, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if info, err := os.Stat(file); err != nil || info.Mode() != want {
			t.Fatalf("%s: mode %v (%v), want %v", file, info.Mode(), err, want)
		}
	}
	if logs.Len() != 0 {
		t.Fatalf("logged without cause:\n%s", logs)
	}
}

// The same for the device-code flow: the second run shows no code.
func TestPersistentCacheDeviceCodeOnceAcrossRuns(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	run := func() (prompts int) {
		client := publicClient(t, s, public.WithCache(msalcache.Persistent(msalcache.FileStore(path), nil)))
		r := refresher(t, azure.DeviceCode{Client: client, Scopes: userScopes,
			Prompt: func(context.Context, azure.DeviceCodePrompt) { prompts++ }})
		defer r.Close() // one run of a tool: it exits after its token
		if _, err := r.Token(); err != nil {
			t.Fatal(err)
		}
		return prompts
	}
	if n := run(); n != 1 {
		t.Fatalf("first run prompted %d times, want 1", n)
	}
	if n := run(); n != 0 || azuretest.DeviceCodeRequests(s) != 1 || azuretest.AuthorizeRequests(s) != 0 {
		t.Fatalf("second run prompted %d times; device-code requests %d, authorize %d; want 0, 1, 0",
			n, azuretest.DeviceCodeRequests(s), azuretest.AuthorizeRequests(s))
	}
}

// A corrupt file is an empty cache: the user signs in again, which rewrites
// the file, and one warning says so without quoting the file.
func TestPersistentCacheCorruptFileMeansSignInAgain(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	const marker = "rt-7f3a-must-not-be-logged"
	os.WriteFile(path, []byte(`{"RefreshToken":{"`+marker+``), 0o600)
	logger, logs := logged()
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 1 {
		t.Fatalf("run on a corrupt cache opened the browser %d times, want 1", len(b.Opened()))
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || strings.Contains(logs.String(), marker) {
		t.Fatalf("%d warnings, want 1 that does not quote the file:\n%s", n, logs)
	}
	if data, _ := os.ReadFile(path); !json.Valid(data) {
		t.Fatal("the sign-in did not rewrite the file")
	}
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 0 {
		t.Fatalf("the run after the rewrite opened the browser %d times, want 0", len(b.Opened()))
	}
}

// A path that can be neither read nor written (here a directory) costs the
// cache, with one warning, but never the token.
func TestPersistentCacheUnusableFileNeverFailsTheRequest(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	os.MkdirAll(path, 0o700)
	logger, logs := logged()
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 1 {
		t.Fatalf("opened the browser %d times, want 1", len(b.Opened()))
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs)
	}
}

// Through msalcache.Persistent, a cache file that is a symbolic link costs the
// cache, with one warning that says why, but not the token.
func TestPersistentCacheWarnsOfASymlink(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere"), path); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	logger, logs := logged()
	if b := browserRun(t, s, path, logger); len(b.Opened()) != 1 {
		t.Fatalf("opened the browser %d times, want 1", len(b.Opened()))
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "symbolic link") {
		t.Fatalf("%d warnings, want 1 that names the symbolic link:\n%s", n, logs)
	}
}
