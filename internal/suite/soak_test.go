package suite

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/tokensource"
)

// TestSoak runs 5 minutes of fake time with tokens that live 10 s, while 32
// goroutines keep calling. Every call must succeed, refreshes must follow the
// lifetime, and goroutines and heap objects must not grow.
func TestSoak(t *testing.T) {
	s := newStack(t, tokensource.WithJitter(0))
	s.idp.SetLifetime(10*time.Second, 0)
	const (
		callers = 32
		step    = 500 * time.Millisecond
		steps   = int(5 * time.Minute / step)
	)
	var failed atomic.Int64
	burst := func() {
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if err := s.call(5 * time.Second); err != nil {
					failed.Add(1)
					t.Log(err)
				}
			})
		}
		wg.Wait()
		s.settle(t)
	}
	var goroutines int
	var heap uint64
	startGen := uint64(0)
	for i := range steps {
		burst()
		s.clk.Advance(step)
		if i == 20 { // warmed up: connections, buffers and caches exist
			goroutines, heap = snapshot()
			startGen = generation(s.engine)
		}
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d calls failed", failed.Load(), steps*callers)
	}
	// Usable life 9 s, refresh at 6.75 s, seen at the next 0.5 s step: a
	// fetch every 7 s, so about 41 in the 290 s after warm-up.
	if n := generation(s.engine) - startGen; n < 38 || n > 44 {
		t.Errorf("refreshes after warm-up = %d, want about 41", n)
	}
	g, h := snapshot()
	t.Logf("%d calls, %d refreshes; goroutines %d -> %d; heap objects %d -> %d",
		steps*callers, generation(s.engine), goroutines, g, heap, h)
	if g > goroutines+4 {
		t.Errorf("goroutines grew from %d to %d", goroutines, g)
	}
	if h > heap+heap/2 {
		t.Errorf("heap objects grew from %d to %d", heap, h)
	}
}

func snapshot() (int, uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapObjects
}
