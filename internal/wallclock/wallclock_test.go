package wallclock

import (
	"testing"
	"time"
)

func TestNowAgreesWithTimeNow(t *testing.T) {
	for range 100 {
		before := time.Now().UnixNano()
		got := Now()
		after := time.Now().UnixNano()
		// Now may truncate to the microsecond.
		if got < before-int64(time.Microsecond) || got > after {
			t.Fatalf("Now() = %d, not within [%d, %d]", got, before, after)
		}
	}
}

func TestAllocsNone(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Now() }); n != 0 {
		t.Fatalf("Now allocates %v times", n)
	}
}

func BenchmarkNow(b *testing.B) {
	for b.Loop() {
		Now()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		time.Now().UnixNano()
	}
}
