package azure

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Both locks, this platform's and the exclusive lock file used where flock
// is missing, keep a second holder out until the first releases.
func TestFileLocksExclude(t *testing.T) {
	for name, newLock := range map[string]func(path string) fileLock{
		"platform":  func(path string) fileLock { l, _ := newFileLock(path); return l },
		"exclusive": func(path string) fileLock { return &exclLock{path: path} },
	} {
		path := filepath.Join(t.TempDir(), "cache.lock")
		first, second := newLock(path), newLock(path)
		if err := acquire(context.Background(), first, time.Second); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := acquire(canceled, second, lockWait); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: second holder with a canceled context: %v, want context.Canceled", name, err)
		}
		if err := acquire(context.Background(), second, 0); !errors.Is(err, errLockBusy) {
			t.Fatalf("%s: second holder with no time to wait: %v, want errLockBusy", name, err)
		}
		first.release()
		if err := acquire(context.Background(), second, time.Second); err != nil {
			t.Fatalf("%s: after release: %v", name, err)
		}
		second.release()
	}
}

// A lock file left by a process that died holding it is removed once stale;
// a waiter that gives up does not remove the holder's.
func TestExclusiveLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.lock")
	os.WriteFile(path, nil, 0o600)
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(path, old, old)
	l := &exclLock{path: path}
	if err := acquire(context.Background(), l, time.Second); err != nil {
		t.Fatalf("stale lock file: %v", err)
	}
	waiter := &exclLock{path: path}
	if ok, _ := waiter.try(); ok {
		t.Fatal("a fresh lock file was taken twice")
	}
	waiter.release()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a waiter removed the holder's lock file: %v", err)
	}
	l.release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("release left the lock file: %v", err)
	}
}

// A lock file that is a symbolic link is refused, and nothing is created
// where it points.
func TestFileLocksRefuseSymlinks(t *testing.T) {
	for name, newLock := range map[string]func(path string) (fileLock, error){
		"platform":  newFileLock,
		"exclusive": func(path string) (fileLock, error) { return &exclLock{path: path}, nil },
	} {
		dir := t.TempDir()
		path, target := filepath.Join(dir, "cache.lock"), filepath.Join(dir, "elsewhere")
		if err := os.Symlink(target, path); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
		l, err := newLock(path)
		if err == nil {
			_, err = l.try()
			l.release()
		}
		if !errors.Is(err, errSymlink) {
			t.Errorf("%s: %v, want errSymlink", name, err)
		}
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the link's target was created (%v)", name, err)
		}
	}
}
