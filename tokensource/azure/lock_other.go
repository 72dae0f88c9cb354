//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package azure

func newFileLock(path string) (fileLock, error) { return &exclLock{path: path}, nil }
