//go:build !(linux && amd64)

package wallclock

func now() int64 { return portable() }
