package msalcache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileStore keeps the token cache in the file at path, for [Persistent].
//
// How the file is protected: like the Azure CLI's own token cache on Linux,
// by file permissions only. It is not encrypted. It is written with mode
// 0600, in a directory created with mode 0700 if missing, and an existing
// file of the current user that others may read is made 0600 when loaded
// (on Linux, macOS and the BSDs; on Windows, where ACLs protect files, and
// elsewhere it is left as it is), so other users cannot read it; but root,
// and any program running as the same user, can, and the refresh token in
// it signs in as the user until it is revoked or expires. Keep it in the
// user's own directory (os.UserCacheDir, say), and implement [Store]
// over an OS keyring where encryption at rest is needed.
//
// FileStore does not follow symbolic links: if path or its lock file is
// one, Load and Save fail with an error that says so (Persistent logs
// it as a warning), and no file is read or created where the link points.
// The directory above may be a link.
//
// Several processes may share the file. Each Load and each Save holds a lock
// on the sibling file path+".lock" (flock on Linux, macOS and the BSDs,
// LockFileEx on Windows; elsewhere, the lock file's exclusive creation),
// waiting for it at most 10 seconds. A Save writes a temporary file in the
// same directory and renames it over the file, so a reader never sees half a
// cache. A missing file loads as nothing stored.
//
// What the lock does not prevent: an update lost between processes. It is
// held for each Load and each Save, not from one to the other: MSAL loads
// the cache before it reads it and saves it after it changes it, but a read
// is not followed by a save, so a lock held from a load until the next save
// could be held indefinitely. Two processes that change the cache at the
// same moment (each between its load and its save, which is work in
// memory, no network request) each save their own version, and the later
// save wins. What that costs: the other process's change, a new sign-in or
// a new refresh token, is missing from the file, so that process, or a
// later run, may have to sign in once more.
func FileStore(path string) Store { return fileStore{path: path} }

type fileStore struct{ path string }

// Load reads the file under the lock. A file of the current user that
// others may read is made 0600 first (on Linux, macOS and the BSDs).
func (f fileStore) Load(ctx context.Context) ([]byte, error) { return f.load(ctx, nil) }

// load is Load. warn, if not nil, is told when the file's mode could not be
// tightened.
func (f fileStore) load(ctx context.Context, warn func(msg string, args ...any)) ([]byte, error) {
	unlock, err := lockFile(ctx, f.path+".lock")
	if errors.Is(err, fs.ErrNotExist) { // no directory: nothing stored
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer unlock()
	file, err := openNoFollow(f.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if info, err := file.Stat(); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 && ownFile(info) {
		if err := file.Chmod(0o600); err != nil && warn != nil {
			warn("the token cache file is readable by others and could not be made 0600",
				"path", f.path, "mode", info.Mode().Perm().String(), "error", err)
		}
	}
	return io.ReadAll(file)
}

// Save replaces the file under the lock. It refuses a path that is a
// symbolic link rather than replace the link with a file.
func (f fileStore) Save(ctx context.Context, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, f.path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if info, err := os.Lstat(f.path); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		return symlinkError("save", f.path)
	}
	return writeAtomic(f.path, data)
}

// errSymlink is why FileStore refuses a cache or lock file path that is a
// symbolic link: it would read, or create, a file elsewhere, wherever the
// link points.
var errSymlink = errors.New("is a symbolic link, which the token cache does not follow")

func symlinkError(op, path string) error { return &fs.PathError{Op: op, Path: path, Err: errSymlink} }

// writeAtomic replaces the file at path with data, mode 0600, by writing a
// temporary file beside it and renaming it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is none
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
