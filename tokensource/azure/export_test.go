package azure

import "time"

// SetSilentTimeout sets the bound of the silent step of DeviceCode and
// InteractiveBrowser for sources built from now on, and returns the
// function that restores it.
func SetSilentTimeout(d time.Duration) (restore func()) {
	old := silentTimeout
	silentTimeout = d
	return func() { silentTimeout = old }
}

// SetRenewEvery sets how many requests a client built by
// OnBehalfOf.NewClient serves, and returns the function that restores it.
func SetRenewEvery(n int) (restore func()) {
	old := renewEvery
	renewEvery = n
	return func() { renewEvery = old }
}
