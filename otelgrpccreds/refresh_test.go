package otelgrpccreds

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/tokensource"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	ok          = "grpccreds.outcome=success,rpc.grpc.status_code=0"
	unavailable = "grpccreds.outcome=failure,rpc.grpc.status_code=14"
)

// scripted is an identity provider that is up or down at the test's word.
type scripted struct {
	clk   *clocktest.Clock
	down  atomic.Bool
	calls atomic.Int64
}

func (s *scripted) TokenContext(context.Context) (*oauth2.Token, error) {
	n := s.calls.Add(1)
	time.Sleep(2 * time.Millisecond)
	if s.down.Load() {
		return nil, status.Error(codes.Unavailable, "identity provider unreachable")
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("secret-token-%d", n), Expiry: s.clk.Now().Add(time.Hour)}, nil
}

func (s *scripted) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// A success, a background failure while the token is valid, a failure with
// backoff after it expired, and the recovery: every instrument and span
// says so, and nothing exported holds a token.
func TestRefreshOutageAndRecovery(t *testing.T) {
	tel := newTelemetry(t)
	obs, err := NewRefreshObserver(tel.opts...)
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Now())
	obs.now = clk.Now
	events := make(chan tokensource.Event, 64)
	src := &scripted{clk: clk}
	r, err := tokensource.Refreshing(src, tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithBackoff(time.Second, time.Minute),
		tokensource.WithObserver(func(ev tokensource.Event) { obs.Observe(ev); events <- ev }))
	if err != nil {
		t.Fatal(err)
	}
	obs.Watch(r)
	defer obs.Close()
	defer r.Close()

	var tokens []string
	token := func() error {
		tok, err := r.Token()
		if err == nil {
			tokens = append(tokens, tok.AccessToken)
		}
		return err
	}
	if err := token(); err != nil { // the first fetch: the caller waits
		t.Fatal(err)
	}
	src.down.Store(true)
	clk.Advance(50 * time.Minute) // past the refresh point, still valid
	if err := token(); err != nil {
		t.Fatalf("a valid token was not served: %v", err)
	}
	waitFor(t, events, tokensource.RefreshFailed)
	clk.Advance(10 * time.Minute) // expired: the caller waits and fails
	if err := token(); err == nil {
		t.Fatal("no error with the provider down and the token expired")
	}
	if err := token(); err == nil || src.calls.Load() != 3 {
		t.Fatalf("during the backoff: err %v, %d token requests; want an error and 3", err, src.calls.Load())
	}
	src.down.Store(false)
	clk.Advance(2 * time.Second) // past the backoff: recovery
	if err := token(); err != nil {
		t.Fatal(err)
	}

	ms := tel.collect(t)
	assertCounts(t, ms)
	assertSpans(t, tel)
	if out := tel.dump(t, ms); containsAny(out, tokens) {
		t.Fatalf("a token was exported:\n%s", out)
	}
}

func assertCounts(t *testing.T, ms map[string]metricdata.Metrics) {
	t.Helper()
	want := map[string]map[string]int64{
		Fetches:            {ok: 2, unavailable: 2},
		BackgroundFailures: {unavailable: 1},
		Waits:              {ok: 2, unavailable: 1},
	}
	for name, w := range want {
		if got := sums(t, ms[name]); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	n, sum := counts(t, ms[FetchDuration])
	if n[ok] != 2 || n[unavailable] != 2 || sum[ok] < 0.004 || sum[unavailable] < 0.004 {
		t.Errorf("%s: counts %v, sums %v; want 2 and 2, each fetch >= 2ms", FetchDuration, n, sum)
	}
	if n, _ := counts(t, ms[WaitDuration]); n[ok] != 2 || n[unavailable] != 1 {
		t.Errorf("%s counts = %v, want 2 successes and 1 failure", WaitDuration, n)
	}
	g := ms[TimeToExpiry].Data.(metricdata.Gauge[float64])
	if len(g.DataPoints) != 1 || g.DataPoints[0].Value != 3570 {
		t.Errorf("%s = %+v, want 3570 (an hour less the 30 s leeway)", TimeToExpiry, g.DataPoints)
	}
}

func assertSpans(t *testing.T, tel *telemetry) {
	t.Helper()
	var got []string
	for _, s := range tel.spans.Ended() {
		got = append(got, fmt.Sprintf("%s %s %v", s.Name(), key(attrSet(s.Attributes())), s.Status().Code))
	}
	want := []string{
		"grpccreds.token.fetch grpccreds.attempt=1,grpccreds.outcome=success,rpc.grpc.status_code=0 " + otelcodes.Unset.String(),
		"grpccreds.token.fetch grpccreds.attempt=1,grpccreds.outcome=failure,rpc.grpc.status_code=14 " + otelcodes.Error.String(),
		"grpccreds.token.fetch grpccreds.attempt=2,grpccreds.outcome=failure,rpc.grpc.status_code=14 " + otelcodes.Error.String(),
		"grpccreds.token.fetch grpccreds.attempt=3,grpccreds.outcome=success,rpc.grpc.status_code=0 " + otelcodes.Unset.String(),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("spans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func waitFor(t *testing.T, ch <-chan tokensource.Event, k tokensource.EventKind) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == k {
				return
			}
		case <-timeout:
			t.Fatalf("no %v event within 10s", k)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
