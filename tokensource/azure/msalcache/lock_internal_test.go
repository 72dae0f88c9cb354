package msalcache

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
		"exclusive": func(path string) fileLock { return newExclLock(path) },
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
	stale(t, path)
	l := newExclLock(path)
	if err := acquire(context.Background(), l, time.Second); err != nil {
		t.Fatalf("stale lock file: %v", err)
	}
	waiter := newExclLock(path)
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
	noneAside(t, path)
}

// stale leaves a lock file at path as a process that died holding it
// long ago would.
func stale(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("token of a dead process"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(path, old, old)
}

// noneAside fails the test if a lock file moved aside to be broken is left.
func noneAside(t *testing.T, path string) {
	t.Helper()
	if left, _ := filepath.Glob(path + ".*"); len(left) != 0 {
		t.Fatalf("files left beside the lock file: %v", left)
	}
}

// A holder whose lock file was broken and taken by another (here as if it
// was stopped for longer than staleLock) does not remove the other's on
// release.
func TestExclusiveLockReleasesOnlyItsOwn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.lock")
	paused := newExclLock(path)
	if ok, err := paused.try(); !ok {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(path, old, old)
	other := newExclLock(path)
	if err := acquire(context.Background(), other, time.Second); err != nil {
		t.Fatalf("taking the stale lock: %v", err)
	}
	paused.release()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the lock's former holder removed the new holder's lock file: %v", err)
	}
	other.release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("release left the lock file: %v", err)
	}
}

// Two waiters see the same stale lock file. The first breaks it, and a
// third process takes the lock; the second, breaking what it saw stale
// late, leaves the new holder's lock file in place.
func TestExclusiveLockStaleBrokenOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.lock")
	stale(t, path)
	seen, err := os.Lstat(path) // what both waiters saw
	if err != nil {
		t.Fatal(err)
	}
	first, second, holder := newExclLock(path), newExclLock(path), newExclLock(path)
	first.breakStale(seen)
	if ok, err := holder.try(); !ok {
		t.Fatalf("taking the broken lock: %v", err)
	}
	second.breakStale(seen)
	if data, err := os.ReadFile(path); err != nil || string(data) != holder.token {
		t.Fatalf("after a second break of the same stale lock, the lock file holds %q (%v), want the new holder's token", data, err)
	}
	noneAside(t, path)
	if ok, _ := second.try(); ok {
		t.Fatal("the lock was taken twice")
	}
	holder.release()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("release left the lock file: %v", err)
	}
}

// A lock file that is a symbolic link is refused, and nothing is created
// where it points.
func TestFileLocksRefuseSymlinks(t *testing.T) {
	for name, newLock := range map[string]func(path string) (fileLock, error){
		"platform":  newFileLock,
		"exclusive": func(path string) (fileLock, error) { return newExclLock(path), nil },
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
