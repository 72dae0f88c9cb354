package msalcache

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleLock is the age past which an exclusive lock file is taken to be left
// behind by a process that died holding it, and broken. A live holder keeps
// it for milliseconds.
const staleLock = 5 * time.Second

// exclLock is held by whoever created the lock file, which O_CREATE|O_EXCL
// lets only one do at a time (and never through a symbolic link), and
// released by removing it. It is the lock on systems with neither flock nor
// LockFileEx.
//
// Its creator writes a random token of its own into the file, and removes
// the file on release only if it still holds that token, so a holder that
// has lost the lock does not remove another's. A lock file older than
// staleLock is broken by a waiter: it renames the file to a name of its
// own, which only one waiter can do, and removes what it moved only if that
// is the stale file it saw; a lock taken anew in the meantime is linked
// back.
//
// What a lock file cannot do, unlike flock and LockFileEx: a holder that is
// stopped for longer than staleLock (a suspended process, a machine
// asleep) loses the lock to a waiter without knowing it. The cache file is
// still never torn, as every Save replaces it whole, but one of the two
// writes is lost: see [FileStore].
type exclLock struct {
	path  string
	token string
	held  bool
}

func newExclLock(path string) *exclLock { return &exclLock{path: path, token: rand.Text()} }

func (l *exclLock) try() (bool, error) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.WriteString(l.token)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(l.path) // just created, and not stale: ours
			return false, err
		}
		l.held = true
		return true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, err
	}
	seen, err := os.Lstat(l.path)
	switch {
	case err != nil: // released meanwhile
		return false, nil
	case seen.Mode()&fs.ModeSymlink != 0:
		return false, symlinkError("lock", l.path)
	case time.Since(seen.ModTime()) > staleLock:
		l.breakStale(seen)
	}
	return false, nil
}

// breakStale removes the lock file, which was seen stale, unless it has
// been replaced since.
func (l *exclLock) breakStale(seen fs.FileInfo) {
	aside := l.path + "." + rand.Text() + ".stale"
	if os.Rename(l.path, aside) != nil {
		return // another waiter moved it first, or it was released
	}
	moved, err := os.Lstat(aside)
	if err != nil || !os.SameFile(seen, moved) || !moved.ModTime().Equal(seen.ModTime()) {
		// Another waiter broke the stale file first, and someone took the
		// lock since: this is theirs. Put it back, unless a newer lock file
		// is there already (Link does not replace one).
		os.Link(aside, l.path)
	}
	os.Remove(aside)
}

func (l *exclLock) release() {
	if !l.held {
		return
	}
	l.held = false
	if data, err := os.ReadFile(l.path); err == nil && string(data) == l.token {
		os.Remove(l.path)
	}
}
