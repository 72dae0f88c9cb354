package msalcache

import (
	"context"
	"errors"
	"time"
)

// lockWait bounds how long a Load or Save of the token cache file waits for
// another process to release its lock. A holder only reads or writes a small
// file, so a longer wait means a stuck or stopped process.
const lockWait = 10 * time.Second

// errLockBusy says another process held the cache lock for all of lockWait.
var errLockBusy = errors.New("the token cache file stayed locked by another process")

// fileLock is an inter-process lock on a lock file.
type fileLock interface {
	// try takes the lock if it is free, and reports whether it did.
	try() (bool, error)
	// release gives the lock back if it is held, and frees what try took.
	release()
}

// lockFile takes the lock on the lock file at path, and returns the function
// that releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	l, err := newFileLock(path)
	if err != nil {
		return nil, err
	}
	if err := acquire(ctx, l, lockWait); err != nil {
		l.release()
		return nil, err
	}
	return l.release, nil
}

// acquire tries l until it is taken, ctx ends or wait has passed, pausing
// between tries from 1 ms growing to 50 ms.
func acquire(ctx context.Context, l fileLock, wait time.Duration) error {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	pause := time.Millisecond
	for {
		ok, err := l.try()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return errLockBusy
		case <-time.After(pause):
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}
