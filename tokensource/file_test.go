package tokensource

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFileReadsAndValidates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	tok := testjwt.Mint(time.Now().Add(time.Hour), nil)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := File{Path: path}.Token()
	if err != nil || got.AccessToken != tok || got.Expiry.IsZero() {
		t.Fatalf("got %v, %v", got.Expiry, err)
	}

	os.WriteFile(path, []byte("a b"), 0o600)
	if _, err := (File{Path: path}).Token(); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("bad content: %v, want Unauthenticated", err)
	}
	if _, err := (File{Path: filepath.Join(dir, "missing")}).Token(); status.Code(err) != codes.Unavailable {
		t.Fatalf("missing file: %v, want Unavailable", err)
	}
}

func TestFileIsReReadWhenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	now := time.Now()
	first, second := testjwt.Mint(now.Add(time.Hour), nil), testjwt.Mint(now.Add(2*time.Hour), nil)
	os.WriteFile(path, []byte(first), 0o600)
	var offset time.Duration
	ch, obs := events()
	r := refreshing(t, File{Path: path}, WithClock(func() time.Time { return now.Add(offset) }), obs)
	defer r.Close()
	if mustToken(t, r) != first {
		t.Fatal("first read")
	}
	os.WriteFile(path, []byte(second), 0o600)
	if mustToken(t, r) != first {
		t.Fatal("re-read while fresh")
	}
	next(t, ch, RefreshSucceeded)
	offset = 50 * time.Minute // stale: served, and re-read in the background
	if mustToken(t, r) != first {
		t.Fatal("stale token not served")
	}
	next(t, ch, RefreshSucceeded)
	if mustToken(t, r) != second {
		t.Fatal("file not re-read when stale")
	}
}
