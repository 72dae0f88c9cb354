package tokensource

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// source is a token endpoint stand-in: it counts calls and answers with fn.
type source struct {
	calls atomic.Int64
	fn    func(ctx context.Context, n int64) (*oauth2.Token, error)
}

func (s *source) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

func (s *source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.fn(ctx, s.calls.Add(1))
}

// lifetimes returns a source whose n-th token is "tok-n" and lives for life
// from clk's current time.
func lifetimes(clk *clocktest.Clock, life time.Duration) *source {
	return &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: clk.Now().Add(life)}, nil
	}}
}

// events collects observer events on a channel.
func events() (chan Event, Option) {
	ch := make(chan Event, 1024)
	return ch, WithObserver(func(e Event) { ch <- e })
}

// next waits (bounded) for the next event of kind k.
func next(t *testing.T, ch chan Event, k EventKind) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Kind == k {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event within 10s", k)
		}
	}
}

func mustToken(t *testing.T, ts oauth2.TokenSource) string {
	t.Helper()
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.AccessToken
}

// refreshing is Refreshing for options a test knows are valid.
func refreshing(t testing.TB, src oauth2.TokenSource, opts ...Option) *Refresher {
	t.Helper()
	r, err := Refreshing(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustConfig(t testing.TB, opts ...Option) config {
	t.Helper()
	c, err := newConfig(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
