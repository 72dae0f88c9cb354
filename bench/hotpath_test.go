package bench

import (
	"testing"
	"time"
)

// BenchmarkGetRequestMetadata is the hot-path comparison in go test form,
// for benchstat: go test -bench . -benchmem -count 10 | benchstat -
func BenchmarkGetRequestMetadata(b *testing.B) {
	ctx := TLSContext()
	for _, l := range []Lib{Floor, Ours, OAuthReuse, OAuthAccess, GoogleAuth, JWTFile} {
		pc, stop := l.New(NewEndpoint(0, time.Hour), Opts{})
		b.Run(l.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pc.GetRequestMetadata(ctx, "https://h/pkg.Svc"); err != nil {
					b.Fatal(err)
				}
			}
		})
		stop()
	}
}

// TestHarness runs every scenario briefly, so the harness cannot rot. It
// asserts only what must hold whatever the machine's speed.
func TestHarness(t *testing.T) {
	for _, c := range append(Background(), HardExpiry()...) {
		r := Stall(c, 300*time.Millisecond)
		if r.Calls == 0 {
			t.Fatalf("%s: no calls", c.Lib.Name)
		}
		if c.Lib.Name == Ours.Name && c.Opts.RefreshIn > 0 && r.Fetches < 1 {
			t.Fatalf("grpccreds refreshed %d times with a 100 ms refresh_in", r.Fetches)
		}
	}
	if res, _ := EndToEnd([]Lib{Ours}, 1, 80); res[Ours.Name].Median() <= 0 {
		t.Fatal("no RPCs")
	}
}
