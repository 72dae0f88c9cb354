package msalcache_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
)

// cacheFile is a path for the token cache in a directory not made yet.
func cacheFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "grpccreds", "msal_token_cache.json")
}

func TestFileStoreMissingFileIsEmpty(t *testing.T) {
	path := cacheFile(t)
	for range 2 { // no directory; then a directory without the file
		if data, err := msalcache.FileStore(path).Load(context.Background()); data != nil || err != nil {
			t.Fatalf("Load of a missing file = %q, %v; want nothing and no error", data, err)
		}
		os.MkdirAll(filepath.Dir(path), 0o700)
	}
}

// Two stores on one file, as two processes have, save and load at once:
// every load is one whole save.
func TestFileStoreConcurrentSaveAndLoad(t *testing.T) {
	path := cacheFile(t)
	saves := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 300<<10)}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			store := msalcache.FileStore(path)
			for i := range 50 {
				if err := store.Save(context.Background(), saves[(i+w)%2]); err != nil {
					t.Error(err)
					return
				}
				got, err := store.Load(context.Background())
				if err != nil || !bytes.Equal(got, saves[0]) && !bytes.Equal(got, saves[1]) {
					t.Errorf("load %d: %d bytes (%v), not one whole save", i, len(got), err)
					return
				}
			}
		})
	}
	wg.Wait()
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp"))
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// A lock file or cache file that is a symbolic link is refused, with an
// error that says so, and nothing is created or read through it.
func TestFileStoreRefusesSymlinks(t *testing.T) {
	ctx := context.Background()
	for _, link := range []string{".lock", ""} {
		path := cacheFile(t)
		dir := filepath.Dir(path)
		os.MkdirAll(dir, 0o700)
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.Symlink(target, path+link); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
		if err := msalcache.FileStore(path).Save(ctx, []byte("{}")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("Save with %s a dangling link: %v, want an error that names the symbolic link", filepath.Base(path+link), err)
		}
		if _, err := os.Lstat(target); !os.IsNotExist(err) {
			t.Errorf("Save with %s a dangling link created its target (%v)", filepath.Base(path+link), err)
		}
		os.WriteFile(target, []byte(`{"someone":"else"}`), 0o600)
		if data, err := msalcache.FileStore(path).Load(ctx); err == nil || data != nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("Load with %s a link: %q, %v; want nothing and an error that names the symbolic link", filepath.Base(path+link), data, err)
		}
		if data, _ := os.ReadFile(target); string(data) != `{"someone":"else"}` {
			t.Errorf("the link's target was changed: %q", data)
		}
	}
}

// A cache file another program left readable by others is made 0600 when
// it is loaded.
func TestFileStoreTightensTheFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows protects files by ACLs, not by these mode bits")
	}
	path := cacheFile(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("{}"), 0o644)
	os.Chmod(path, 0o644) // whatever the umask
	if data, err := msalcache.FileStore(path).Load(context.Background()); string(data) != "{}" || err != nil {
		t.Fatalf("Load = %q, %v", data, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Load: %v (%v), want 0600", info.Mode().Perm(), err)
	}
	// Another user's file is read as it is. Only root can make one here.
	if os.Getuid() != 0 {
		return
	}
	os.Chmod(path, 0o644)
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if data, err := msalcache.FileStore(path).Load(context.Background()); string(data) != "{}" || err != nil {
		t.Fatalf("Load of another user's file = %q, %v", data, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Fatalf("mode of another user's file after Load: %v (%v), want it left 0644", info.Mode().Perm(), err)
	}
}
