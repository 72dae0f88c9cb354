package bench

import (
	"testing"
	"time"
)

// TestRotationHarness runs the rotation and handshake measurements briefly:
// it checks that they work and that no call fails, not how fast they are.
func TestRotationHarness(t *testing.T) {
	r := RotationUnderLoad(8, 500*time.Millisecond, 100*time.Millisecond)
	if r.Failed != 0 || r.Calls == 0 || r.Rotations < 3 || r.Conns < 2 {
		t.Fatalf("%+v", r)
	}
	res := Handshakes(1, 20)
	for _, v := range HandshakeVariants {
		if len(res[v]) != 1 || res[v][0] <= 0 {
			t.Fatalf("%s: %v", v, res[v])
		}
	}
}
