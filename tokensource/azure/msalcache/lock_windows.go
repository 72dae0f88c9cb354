package msalcache

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// winLock is an exclusive LockFileEx lock on the first byte of an open
// lock file. Windows releases it when the handle is closed, which it does
// when its holder exits however it exits, so a crashed process leaves no
// stale lock.
type winLock struct {
	f    *os.File
	held bool
}

func newFileLock(path string) (fileLock, error) {
	f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &winLock{f: f}, nil
}

func (l *winLock) try() (bool, error) {
	err := windows.LockFileEx(windows.Handle(l.f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY,
		0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	l.held = err == nil
	return l.held, err
}

// release unlocks, if locked, and closes the file.
func (l *winLock) release() {
	if l.held {
		windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, new(windows.Overlapped))
		l.held = false
	}
	l.f.Close()
}

// openNoFollow is os.OpenFile, except that it neither opens nor creates a
// file through a symbolic link (or junction) at path: with
// FILE_FLAG_OPEN_REPARSE_POINT Windows opens such a link itself, which is
// then refused.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|windows.O_FILE_FLAG_OPEN_REPARSE_POINT, perm)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || info.Mode()&fs.ModeSymlink != 0 {
		f.Close()
		if err == nil {
			err = symlinkError("open", path)
		}
		return nil, err
	}
	return f, nil
}

// ownFile reports false: Windows protects files by ACLs, which FileStore
// leaves as they are, not by the mode bits Go reports.
func ownFile(fs.FileInfo) bool { return false }
