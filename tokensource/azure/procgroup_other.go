//go:build !unix

package azure

import "os/exec"

// killGroup leaves cmd as it is: on this platform only the CLI's own process
// is killed when its context ends.
func killGroup(*exec.Cmd) {}
