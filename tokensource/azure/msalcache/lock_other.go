//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package msalcache

import (
	"io/fs"
	"os"
)

func newFileLock(path string) (fileLock, error) { return newExclLock(path), nil }

// openNoFollow is os.OpenFile, except that it refuses a symbolic link at
// path. Without O_NOFOLLOW here, the path is checked before the open, and
// the opened file compared with what the path names after it. That catches
// a link made in between only after the open, which is enough for reading,
// its only use on these systems: their lock (exclLock) creates its file
// with O_EXCL, which never follows a link.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if info, err := os.Lstat(path); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		return nil, symlinkError("open", path)
	}
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	named, lerr := os.Lstat(path)
	if err != nil || lerr != nil || !os.SameFile(opened, named) {
		f.Close()
		return nil, symlinkError("open", path)
	}
	return f, nil
}

// ownFile reports false: FileStore tightens modes only where it knows the
// file's owner.
func ownFile(fs.FileInfo) bool { return false }
