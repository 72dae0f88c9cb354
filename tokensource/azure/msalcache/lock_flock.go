//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package msalcache

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// flockLock is an exclusive flock(2) on an open lock file. The kernel
// releases it when its holder exits, however it exits, so a crashed process
// leaves no stale lock.
type flockLock struct{ f *os.File }

func newFileLock(path string) (fileLock, error) {
	f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return flockLock{f: f}, nil
}

func (l flockLock) try() (bool, error) {
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
		return false, nil
	}
	return err == nil, err
}

// release unlocks by closing the file, which ends its flock.
func (l flockLock) release() { l.f.Close() }

// openNoFollow is os.OpenFile, except that it neither opens nor creates a
// file through a symbolic link at path: O_NOFOLLOW has the kernel refuse
// one, which is then reported as such.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
			return nil, symlinkError("open", path)
		}
	}
	return f, err
}

// ownFile reports whether info describes a file of the current user, whose
// mode FileStore may tighten.
func ownFile(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
