package tokensource

import (
	"testing"
	"time"
)

func TestRetryAfterStretchesBackoff(t *testing.T) {
	c := mustConfig(t, WithJitter(0))
	if d := c.backoff(1, 30*time.Second); d != 30*time.Second {
		t.Fatalf("backoff with Retry-After 30s = %v", d)
	}
	if d := c.backoff(20, 0); d != 2*time.Minute {
		t.Fatalf("backoff cap = %v, want 2m", d)
	}
}
