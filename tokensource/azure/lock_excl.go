package azure

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleLock is the age past which an exclusive lock file is taken to be left
// behind by a process that died holding it, and removed. A live holder keeps
// it for milliseconds.
const staleLock = 5 * time.Second

// exclLock is held by whoever created the lock file, which O_CREATE|O_EXCL
// lets only one do at a time (and never through a symbolic link), and
// released by removing it. It is the lock on systems without flock (Windows
// among them).
type exclLock struct {
	path string
	held bool
}

func (l *exclLock) try() (bool, error) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		l.held = true
		return true, f.Close()
	}
	// Windows answers "access denied" for a lock file being removed.
	if !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrPermission) {
		return false, err
	}
	info, err := os.Lstat(l.path)
	if err == nil && info.Mode()&fs.ModeSymlink != 0 {
		return false, symlinkError("lock", l.path)
	}
	if err == nil && time.Since(info.ModTime()) > staleLock {
		os.Remove(l.path)
	}
	return false, nil
}

func (l *exclLock) release() {
	if l.held {
		os.Remove(l.path)
		l.held = false
	}
}
