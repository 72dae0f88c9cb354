package wallclock

import "syscall"

// now uses gettimeofday, which Go calls through the vDSO on linux/amd64.
func now() int64 {
	var tv syscall.Timeval
	if syscall.Gettimeofday(&tv) != nil {
		return portable()
	}
	return tv.Sec*1e9 + tv.Usec*1e3
}
