package tokensource

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"

	"golang.org/x/oauth2"
)

func TestEventsAndLogsNeverCarryTokens(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var mu sync.Mutex
	var seen []Event
	fail := true // only the fetch goroutine touches it, one fetch at a time
	src := Func(func(context.Context) (*oauth2.Token, error) {
		if fail {
			fail = false
			return nil, fmt.Errorf("upstream said no")
		}
		return &oauth2.Token{AccessToken: secret, Expiry: time.Now().Add(time.Hour)}, nil
	})
	clk := clocktest.New(time.Now())
	observe := func(e Event) { mu.Lock(); seen = append(seen, e); mu.Unlock() }
	r := refreshing(t, src, WithLogger(logger), WithObserver(observe), WithClock(clk.Now))
	r.Token()
	clk.Advance(2 * time.Second)
	if tok, err := r.Token(); err != nil || tok.AccessToken != secret {
		t.Fatalf("second fetch: %v", err)
	}
	r.Close() // waits for the fetch goroutines, and so for their events
	if !strings.Contains(buf.String(), "token refresh failed") || !strings.Contains(buf.String(), "token refreshed") {
		t.Fatalf("log lacks the refresh events:\n%s", buf.String())
	}
	for _, out := range []string{buf.String(), fmt.Sprintf("%v %+v %#v", seen, seen, seen), fmt.Sprintf("%v %+v %#v", r, r, r)} {
		if strings.Contains(out, secret) {
			t.Fatalf("token text leaked: %s", out)
		}
	}
	if len(seen) != 6 {
		t.Fatalf("events = %d (%v), want started, failed, waited, started, succeeded, waited", len(seen), seen)
	}
}
