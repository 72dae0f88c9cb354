package msalcache_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
)

// brokenStore fails every Load and Save, quoting what it holds.
type brokenStore struct{}

func (brokenStore) Load(context.Context) ([]byte, error) { return nil, errors.New("disk gone") }
func (brokenStore) Save(context.Context, []byte) error   { return errors.New("disk gone") }

// msal plays MSAL's side of the hook: the cache it loads into and saves.
type msal struct{ loaded []byte }

func (m *msal) Unmarshal(b []byte) error { m.loaded = b; return nil }
func (m *msal) Marshal() ([]byte, error) { return []byte(`{"secret":"rt-marker-9c2"}`), nil }

// A store that fails costs the cache, with one warning prefixed
// "msalcache: " however often MSAL calls, and never the token request; only
// the caller's ended context is an error.
func TestPersistentNeverFailsTheRequest(t *testing.T) {
	var logs bytes.Buffer
	p := msalcache.Persistent(brokenStore{}, slog.New(slog.NewTextHandler(&logs, nil)))
	m := &msal{}
	ctx := context.Background()
	for range 3 {
		if err := p.Replace(ctx, m, cache.ReplaceHints{}); err != nil || string(m.loaded) != "{}" {
			t.Fatalf("Replace = %v, loaded %q; want no error and an empty cache", err, m.loaded)
		}
		if err := p.Export(ctx, m, cache.ExportHints{}); err != nil {
			t.Fatalf("Export = %v, want no error", err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), `msg="msalcache: `) ||
		strings.Contains(logs.String(), "rt-marker") {
		t.Fatalf("%d warnings, want 1 prefixed msalcache: and quoting no cache:\n%s", n, logs.String())
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Replace(canceled, m, cache.ReplaceHints{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Replace on a canceled context = %v, want context.Canceled", err)
	}
}
